import type { BusMessage, BusSubscription, EventBus } from '@chat/bus'
import { subjects } from '@chat/contracts'
import type { JoinListener } from './gateway-context.js'

export interface JoinNoticesLogger {
  error(object: Record<string, unknown>, message: string): void
}

/**
 * `room.joined` for `/ws/` sockets: the gateway subscribes to every room's
 * `participants.added` once, with its first such socket (those events are
 * rare next to messages), and tells the sockets of each user it names.
 */
export class JoinNotices {
  private readonly listeners = new Map<string, Set<JoinListener>>()
  private subscription: Promise<BusSubscription> | undefined

  constructor(
    private readonly bus: EventBus,
    private readonly logger: JoinNoticesLogger
  ) {}

  /** Resolves once the bus delivers the notices; rejects (logged here) when it cannot subscribe, and the next socket tries again. */
  async watch(listener: JoinListener, userId: string): Promise<void> {
    let listeners = this.listeners.get(userId)
    if (!listeners) {
      listeners = new Set()
      this.listeners.set(userId, listeners)
    }
    listeners.add(listener)
    if (!this.subscription) {
      const subscribing = this.bus.subscribe(subjects.anyRoomEvent('participants.added'), (message) => this.onParticipantsAdded(message))
      this.subscription = subscribing
      subscribing.catch((error: unknown) => {
        this.logger.error({ err: error }, 'subscribing to participants.added failed; room.joined notices are off until the next socket')
        if (this.subscription === subscribing) this.subscription = undefined
      })
    }
    await this.subscription
  }

  unwatch(listener: JoinListener, userId: string): void {
    const listeners = this.listeners.get(userId)
    if (!listeners) return
    listeners.delete(listener)
    if (listeners.size === 0) this.listeners.delete(userId)
  }

  async close(): Promise<void> {
    const subscription = this.subscription
    this.subscription = undefined
    if (subscription) await subscription.then((taken) => taken.unsubscribe()).catch(() => undefined)
  }

  private onParticipantsAdded(message: BusMessage): void {
    if (this.listeners.size === 0) return
    let frame: { room_id?: unknown; users?: Array<{ id?: unknown }> }
    try {
      frame = JSON.parse(Buffer.from(message.data).toString('utf8')) as typeof frame
    } catch {
      return
    }
    if (typeof frame.room_id !== 'string' || !Array.isArray(frame.users)) return
    for (const user of frame.users) {
      const listeners = typeof user.id === 'string' ? this.listeners.get(user.id) : undefined
      for (const listener of listeners ?? []) listener.notifyJoined(frame.room_id)
    }
  }
}
