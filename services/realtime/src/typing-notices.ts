import type { EventBus } from '@chat/bus'
import { subjects, type User } from '@chat/contracts'
import { typingUserHeader } from './room-channel.js'

/** A start is published again at most this often while the user keeps typing. */
const typingRepeatMs = 2_000
/** A start that is not repeated ends this long after the last typing frame. */
const typingExpiryMs = 5_000

interface TypingState {
  lastPublishedAt: number
  expiry: NodeJS.Timeout
}

/**
 * One socket's typing state per room: a start goes out at once and then at
 * most every 2 s; a stop goes out when the client says so, sends a message,
 * leaves the room, disconnects, or stops repeating for 5 s.
 */
export class TypingNotices {
  /** Made on the first typing frame: most sockets never type. */
  private rooms: Map<string, TypingState> | undefined

  constructor(private readonly publish: (roomId: string, active: boolean) => void) {}

  typing(roomId: string, now = Date.now()): void {
    const rooms = (this.rooms ??= new Map<string, TypingState>())
    const state = rooms.get(roomId)
    if (state) clearTimeout(state.expiry)
    const expiry = setTimeout(() => this.stop(roomId), typingExpiryMs)
    if (!state || now - state.lastPublishedAt >= typingRepeatMs) {
      rooms.set(roomId, { lastPublishedAt: now, expiry })
      this.publish(roomId, true)
    } else {
      rooms.set(roomId, { lastPublishedAt: state.lastPublishedAt, expiry })
    }
  }

  stop(roomId: string): void {
    const state = this.rooms?.get(roomId)
    if (!state) return
    clearTimeout(state.expiry)
    this.rooms?.delete(roomId)
    this.publish(roomId, false)
  }

  stopAll(): void {
    for (const roomId of [...(this.rooms?.keys() ?? [])]) this.stop(roomId)
  }
}

/** Publishes a typing notice on core NATS, with its typist in a header so that their own sockets skip it. */
export function publishTypingNotice(
  bus: EventBus,
  roomId: string,
  user: User,
  active: boolean,
  log: { debug(object: Record<string, unknown>, message: string): void }
): void {
  const bytes = Buffer.from(JSON.stringify({ type: 'typing', room_id: roomId, user, active }))
  bus
    .publish(subjects.roomTyping(roomId), bytes, { headers: { [typingUserHeader]: user.id } })
    .catch((error: unknown) => log.debug({ err: error, roomId }, 'typing notice not published'))
}
