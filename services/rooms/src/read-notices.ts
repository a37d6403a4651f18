import type { EventBus } from '@chat/bus'
import { subjects, type User } from '@chat/contracts'
import type { JoinNoticesLogger } from './join-notices.js'

/** Tells a room's sockets that a participant read up to `seq`. */
export type ReadNotifier = (roomId: string, user: User, seq: number) => void

/**
 * Publishes the `read` frame on `chat.room.<id>.read` (core NATS, outside the
 * event stream): ephemeral like typing, so no `seq` key (the position is
 * `last_read_seq`, as on participants). The gateways pass
 * it to the sockets subscribed to the room. One lost with the bus is not
 * re-sent: `GET /chatrooms/:room_id/` has every participant's `last_read_seq`.
 */
export function createReadNotifier(bus: EventBus, logger: JoinNoticesLogger): ReadNotifier {
  return (roomId, user, seq) => {
    const bytes = Buffer.from(JSON.stringify({ type: 'read', room_id: roomId, user, last_read_seq: seq }))
    bus.publish(subjects.roomRead(roomId), bytes).catch((error: unknown) => logger.debug({ err: error, room_id: roomId }, 'read notice not published'))
  }
}
