import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { BusSubscription, EventBus } from '@chat/bus'
import { subjects, type User } from '@chat/contracts'
import type { PresenceChange, PresenceTracker, PresenceUpdate } from '@chat/service-kit'

export interface GatewayPresenceDeps {
  bus: EventBus
  /** This process's view of every gateway's users; its changes become `presence` frames. */
  tracker: PresenceTracker
  logger: FastifyBaseLogger
  findUser(userId: string): Promise<User | undefined>
  /** Everyone sharing a room with the user (the store). */
  coMembers(userId: string): Promise<string[]>
  /** Writes users' `last_seen_at` (forward only). */
  markLastSeen(userIds: readonly string[], at: Date): Promise<void>
  /** Sends a `presence` frame to the local `/ws/` sockets of one user. */
  deliver(userId: string, bytes: Buffer): void
  /** Whether any `/ws/` socket is open here: without one, no co-member lookup is worth doing. */
  hasListeners(): boolean
  /** Whether this user has a `/ws/` socket here. */
  listens(userId: string): boolean
}

export interface GatewayPresenceSettings {
  /** An entry not refreshed for this long lapses; refreshed every third of it. */
  ttlMs: number
  /** A user whose last socket here closed is reported offline this long after, unless a socket reopened. */
  debounceMs: number
  /** How long a user's co-members are kept before the store is asked again. */
  coMembersCacheMs?: number
}

/** Users per update message: keeps each well under NATS's 1 MB payload. */
const chunkSize = 5_000
const coMembersCacheMax = 10_000

/**
 * This gateway's side of presence: counts the open sockets of each user,
 * publishes its users on `chat.presence.update` (on the first socket, then
 * every third of the TTL, and at once when a tracker asks on
 * `chat.presence.sync`), and `offline` once a user's last socket here has
 * been closed for the debounce. A killed gateway publishes nothing more and
 * its entries lapse. Every change the tracker sees (from any gateway) goes as
 * a `presence` frame to the local `/ws/` sockets of users who share a room
 * with that user.
 */
export class GatewayPresence {
  readonly gatewayId = randomUUID()
  /** user id -> sockets open here; 0 while the offline report waits out the debounce. */
  private readonly sockets = new Map<string, number>()
  private readonly pendingOffline = new Map<string, NodeJS.Timeout>()
  private readonly coMembersCache = new Map<string, { ids: Promise<string[]>; at: number }>()
  private refresher: NodeJS.Timeout | undefined
  private syncSubscription: BusSubscription | undefined
  private lastFullAt = 0
  private stopListening: (() => void) | undefined
  private stopped = false

  constructor(
    private readonly deps: GatewayPresenceDeps,
    private readonly settings: GatewayPresenceSettings
  ) {}

  async start(): Promise<void> {
    this.stopListening = this.deps.tracker.onChange((change) => this.onChange(change))
    this.syncSubscription = await this.deps.bus.subscribe(subjects.presenceSync(), () => {
      // Many trackers starting at once ask once each: one full list a second is enough.
      if (Date.now() - this.lastFullAt >= 1_000) this.publishAll()
    })
    this.refresher = setInterval(() => this.publishAll(), Math.max(100, Math.floor(this.settings.ttlMs / 3)))
    this.refresher.unref()
  }

  /** A socket of the user finished authenticating here. */
  connected(userId: string): void {
    if (this.stopped) return
    const before = this.sockets.get(userId)
    this.sockets.set(userId, (before ?? 0) + 1)
    const pending = this.pendingOffline.get(userId)
    if (pending) {
      // A reconnect within the debounce: nothing changed for anyone.
      clearTimeout(pending)
      this.pendingOffline.delete(userId)
    }
    if (before === undefined) this.publish({ online: [userId] })
  }

  disconnected(userId: string): void {
    const before = this.sockets.get(userId)
    if (before === undefined || this.stopped) return
    this.sockets.set(userId, before - 1)
    if (before > 1) return
    const timer = setTimeout(() => {
      this.pendingOffline.delete(userId)
      if (this.sockets.get(userId) !== 0) return
      this.sockets.delete(userId)
      this.publish({ offline: [userId] })
      this.deps.markLastSeen([userId], new Date()).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'writing last_seen_at failed'))
    }, this.settings.debounceMs)
    timer.unref()
    this.pendingOffline.set(userId, timer)
  }

  /**
   * Stops refreshing (the entries lapse, unless the clients reconnect to
   * another gateway first, which keeps them online there without a flicker)
   * and records when this gateway's users were last seen.
   */
  async shutdown(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.refresher) clearInterval(this.refresher)
    for (const timer of this.pendingOffline.values()) clearTimeout(timer)
    this.pendingOffline.clear()
    this.stopListening?.()
    await this.syncSubscription?.unsubscribe().catch(() => undefined)
    const users = [...this.sockets.keys()]
    this.sockets.clear()
    await this.deps.markLastSeen(users, new Date()).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'writing last_seen_at failed'))
  }

  private publishAll(): void {
    if (this.stopped) return
    this.lastFullAt = Date.now()
    const users = [...this.sockets.keys()]
    for (let start = 0; start < users.length; start += chunkSize) this.publish({ online: users.slice(start, start + chunkSize) })
  }

  private publish(lists: Pick<PresenceUpdate, 'online' | 'offline'>): void {
    const update: PresenceUpdate = { gateway: this.gatewayId, ttl_ms: this.settings.ttlMs, ...lists }
    this.deps.bus
      .publish(subjects.presenceUpdate(), Buffer.from(JSON.stringify(update)))
      .catch((error: unknown) => this.deps.logger.debug({ err: error }, 'presence update not published; the next refresh repeats it'))
  }

  private onChange(change: PresenceChange): void {
    if (!change.online && change.expired) {
      // Its gateway stopped answering: nobody else will write when the user was last seen.
      this.deps.markLastSeen([change.userId], new Date(change.lastHeardAt)).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'writing last_seen_at failed'))
    }
    if (!this.deps.hasListeners()) return
    this.fanOut(change.userId, change.online).catch((error: unknown) => this.deps.logger.warn({ err: error, userId: change.userId }, 'presence fan-out failed'))
  }

  private async fanOut(userId: string, online: boolean): Promise<void> {
    // Every gateway hears every change: the user is looked up only where a co-member listens.
    const here = (await this.coMembersOf(userId)).filter((memberId) => memberId !== userId && this.deps.listens(memberId))
    if (here.length === 0) return
    const user = await this.deps.findUser(userId)
    if (!user) return
    const bytes = Buffer.from(JSON.stringify({ type: 'presence', user, online }))
    for (const memberId of here) this.deps.deliver(memberId, bytes)
  }

  /**
   * Cached for a while: a user going on and off line often costs one query.
   * A room joined since is seen when the entry expires.
   */
  private coMembersOf(userId: string): Promise<string[]> {
    const now = Date.now()
    const cached = this.coMembersCache.get(userId)
    if (cached && now - cached.at < (this.settings.coMembersCacheMs ?? 30_000)) return cached.ids
    if (this.coMembersCache.size >= coMembersCacheMax) this.coMembersCache.clear()
    const ids = this.deps.coMembers(userId)
    this.coMembersCache.set(userId, { ids, at: now })
    ids.catch(() => this.coMembersCache.delete(userId))
    return ids
  }
}
