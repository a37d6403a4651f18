import type { BusMessage, BusSubscription, EventBus } from '@chat/bus'
import { subjects } from '@chat/contracts'
import type { UserListener } from './gateway-context.js'

export interface UserNoticesLogger {
  error(object: Record<string, unknown>, message: string): void
}

/**
 * What a `/ws/` socket hears about its user beyond the rooms it subscribed
 * to: `room.joined` when a `participants.added` event names the user, or
 * when the user made a room (`chat.user.<id>.joined`, from the rooms service,
 * so that the creator's other devices learn of it too), and the `mention`
 * frames (`chat.user.<id>.mention`, from the messages service, forwarded
 * unparsed). The gateway subscribes to both sources once, with its first
 * `/ws/` socket: they are rare next to messages.
 */
export class UserNotices {
  private readonly listeners = new Map<string, Set<UserListener>>()
  private subscriptions: Promise<BusSubscription[]> | undefined

  constructor(
    private readonly bus: EventBus,
    private readonly logger: UserNoticesLogger
  ) {}

  /** Resolves once the bus delivers the notices; rejects (logged here) when it cannot subscribe, and the next socket tries again. */
  async watch(listener: UserListener, userId: string): Promise<void> {
    let listeners = this.listeners.get(userId)
    if (!listeners) {
      listeners = new Set()
      this.listeners.set(userId, listeners)
    }
    listeners.add(listener)
    if (!this.subscriptions) {
      const subscribing = this.subscribe()
      this.subscriptions = subscribing
      subscribing.catch((error: unknown) => {
        this.logger.error({ err: error }, 'subscribing to user notices failed; room.joined and mention frames are off until the next socket')
        if (this.subscriptions === subscribing) this.subscriptions = undefined
      })
    }
    await this.subscriptions
  }

  /** Sends `bytes` (a `presence` frame) to the user's `/ws/` sockets here. */
  deliver(userId: string, bytes: Buffer): void {
    for (const listener of this.listeners.get(userId) ?? []) listener.notify(bytes)
  }

  get hasListeners(): boolean {
    return this.listeners.size > 0
  }

  /** Whether the user has a `/ws/` socket here. */
  listens(userId: string): boolean {
    return this.listeners.has(userId)
  }

  unwatch(listener: UserListener, userId: string): void {
    const listeners = this.listeners.get(userId)
    if (!listeners) return
    listeners.delete(listener)
    if (listeners.size === 0) this.listeners.delete(userId)
  }

  async close(): Promise<void> {
    const subscriptions = this.subscriptions
    this.subscriptions = undefined
    if (subscriptions) await subscriptions.then((taken) => Promise.all(taken.map((one) => one.unsubscribe()))).catch(() => undefined)
  }

  private async subscribe(): Promise<BusSubscription[]> {
    const added = await this.bus.subscribe(subjects.anyRoomEvent('participants.added'), (message) => this.onParticipantsAdded(message))
    try {
      return [added, await this.bus.subscribe(subjects.anyUserNotice(), (message) => this.onUserNotice(message))]
    } catch (error) {
      await added.unsubscribe().catch(() => undefined)
      throw error
    }
  }

  private onParticipantsAdded(message: BusMessage): void {
    if (this.listeners.size === 0) return
    const frame = parse(message) as { room_id?: unknown; users?: Array<{ id?: unknown }> } | undefined
    if (typeof frame?.room_id !== 'string' || !Array.isArray(frame.users)) return
    for (const user of frame.users) {
      const listeners = typeof user.id === 'string' ? this.listeners.get(user.id) : undefined
      for (const listener of listeners ?? []) listener.notifyJoined(frame.room_id)
    }
  }

  private onUserNotice(message: BusMessage): void {
    // chat.user.<id>.<kind>
    const [, , userId, kind] = message.subject.split('.')
    const listeners = userId === undefined ? undefined : this.listeners.get(userId)
    if (!listeners) return
    if (kind === 'mention') {
      const bytes = Buffer.from(message.data)
      for (const listener of listeners) listener.notify(bytes)
    } else if (kind === 'joined') {
      const notice = parse(message) as { room_id?: unknown } | undefined
      if (typeof notice?.room_id !== 'string') return
      for (const listener of listeners) listener.notifyJoined(notice.room_id)
    }
  }
}

function parse(message: BusMessage): unknown {
  try {
    return JSON.parse(Buffer.from(message.data).toString('utf8'))
  } catch {
    return undefined
  }
}
