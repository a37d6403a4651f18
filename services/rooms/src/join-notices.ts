import type { EventBus } from '@chat/bus'
import { subjects } from '@chat/contracts'

export interface JoinNoticesLogger {
  debug(object: Record<string, unknown>, message: string): void
}

/** Tells a user's devices that the user made a room. */
export type CreatorNotifier = (userId: string, roomId: string) => void

/**
 * Publishes `{"type":"room.joined","room_id"}` on `chat.user.<id>.joined`
 * (core NATS) after the commit that made the room. Its creator is in no
 * `participants.added` event (a room made alone has none at all), so
 * without this their other devices would learn of the room only on a
 * reload. A nudge like a mention notice: one lost with the bus is not
 * re-sent; the room is in the creator's `GET /chatrooms/`.
 */
export function createCreatorNotifier(bus: EventBus, logger: JoinNoticesLogger): CreatorNotifier {
  return (userId, roomId) => {
    const bytes = Buffer.from(JSON.stringify({ type: 'room.joined', room_id: roomId }))
    bus.publish(subjects.userJoined(userId), bytes).catch((error: unknown) => logger.debug({ err: error, room_id: roomId }, 'room.joined notice not published'))
  }
}
