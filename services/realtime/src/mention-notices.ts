import type { BusMessage, BusSubscription, EventBus } from '@chat/bus'
import { subjects } from '@chat/contracts'
import type { MentionListener } from './gateway-context.js'

export interface MentionNoticesLogger {
  error(object: Record<string, unknown>, message: string): void
}

/**
 * `mention` frames for `/ws/` sockets, whatever rooms they subscribed to.
 * The messages service publishes one notice per mentioned user on
 * `chat.user.<id>.mention` after commit; the gateway subscribes to them all
 * once, with its first `/ws/` socket (as JoinNotices does for
 * `participants.added`: mentions are rare next to messages), and forwards
 * the bytes, unparsed, to the sockets of the user the subject names.
 */
export class MentionNotices {
  private readonly listeners = new Map<string, Set<MentionListener>>()
  private subscription: Promise<BusSubscription> | undefined

  constructor(
    private readonly bus: EventBus,
    private readonly logger: MentionNoticesLogger
  ) {}

  /** Resolves once the bus delivers the notices; rejects (logged here) when it cannot subscribe, and the next socket tries again. */
  async watch(listener: MentionListener, userId: string): Promise<void> {
    let listeners = this.listeners.get(userId)
    if (!listeners) {
      listeners = new Set()
      this.listeners.set(userId, listeners)
    }
    listeners.add(listener)
    if (!this.subscription) {
      const subscribing = this.bus.subscribe(subjects.anyUserMention(), (message) => this.onMention(message))
      this.subscription = subscribing
      subscribing.catch((error: unknown) => {
        this.logger.error({ err: error }, 'subscribing to mention notices failed; they are off until the next socket')
        if (this.subscription === subscribing) this.subscription = undefined
      })
    }
    await this.subscription
  }

  unwatch(listener: MentionListener, userId: string): void {
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

  private onMention(message: BusMessage): void {
    // chat.user.<id>.mention
    const userId = message.subject.split('.')[2]
    const listeners = userId === undefined ? undefined : this.listeners.get(userId)
    if (!listeners) return
    const bytes = Buffer.from(message.data)
    for (const listener of listeners) listener.notifyMention(bytes)
  }
}
