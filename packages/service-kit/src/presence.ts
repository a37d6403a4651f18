import type { BusSubscription, EventBus } from '@chat/bus'
import { subjects } from '@chat/contracts'

/**
 * What a gateway publishes on `chat.presence.update` (core NATS): users with
 * a socket open on it (`online`, on the first socket and again every third of
 * `ttl_ms`) and users whose last socket there closed more than the debounce
 * ago (`offline`). An entry not repeated within `ttl_ms` lapses: a gateway
 * killed with its sockets open needs nobody to say its users left.
 */
export interface PresenceUpdate {
  gateway: string
  ttl_ms: number
  online?: string[]
  offline?: string[]
}

/** Why a user's presence changed, as a tracker saw it. */
export type PresenceChange =
  | { userId: string; online: true }
  | { userId: string; online: false; /** the last time a gateway named the user (epoch ms) */ lastHeardAt: number; expired: boolean }

export type PresenceListener = (change: PresenceChange) => void

/** The read side of presence, as the services answering `online` and `last_seen_at` need it. */
export interface PresenceReader {
  isOnline(userId: string): boolean
}

export interface PresenceTrackerOptions {
  /** How often lapsed entries are looked for; default 1 s. */
  sweepMs?: number
  /** Longest list in one update a tracker accepts; longer ones are cut. */
  maxIdsPerUpdate?: number
}

const maxIdsDefault = 10_000

/**
 * One process's view of who is online, from the gateways' updates: per user,
 * the gateways that named them and until when. Memory is proportional to the
 * users online now; an offline user is forgotten (their `last_seen_at` is in
 * the users table, written by the gateways). On start it asks the gateways for
 * their lists (`chat.presence.sync`), so a restarted service is right within
 * a round trip rather than a refresh interval.
 */
export class PresenceTracker implements PresenceReader {
  /** user id -> gateway id -> when it last named them and until when that holds (epoch ms) */
  private readonly entries = new Map<string, Map<string, { heardAt: number; expiresAt: number }>>()
  private readonly listeners = new Set<PresenceListener>()
  private subscription: BusSubscription | undefined
  private sweeper: NodeJS.Timeout | undefined
  private readonly sweepMs: number
  private readonly maxIds: number

  constructor(
    private readonly bus: EventBus,
    options: PresenceTrackerOptions = {}
  ) {
    this.sweepMs = options.sweepMs ?? 1_000
    this.maxIds = options.maxIdsPerUpdate ?? maxIdsDefault
  }

  async start(): Promise<void> {
    this.subscription = await this.bus.subscribe(subjects.presenceUpdate(), (message) => {
      let update: unknown
      try {
        update = JSON.parse(Buffer.from(message.data).toString('utf8'))
      } catch {
        return
      }
      if (isUpdate(update)) this.apply(update)
    })
    this.sweeper = setInterval(() => this.sweep(), this.sweepMs)
    this.sweeper.unref()
    await this.bus.publish(subjects.presenceSync(), new Uint8Array()).catch(() => undefined)
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    await this.subscription?.unsubscribe().catch(() => undefined)
    this.subscription = undefined
  }

  onChange(listener: PresenceListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  isOnline(userId: string, now = Date.now()): boolean {
    const gateways = this.entries.get(userId)
    if (!gateways) return false
    for (const entry of gateways.values()) if (entry.expiresAt > now) return true
    return false
  }

  /** Users online now, for tests and metrics. */
  get size(): number {
    return this.entries.size
  }

  apply(update: PresenceUpdate, now = Date.now()): void {
    const entry = { heardAt: now, expiresAt: now + update.ttl_ms }
    for (const userId of (update.online ?? []).slice(0, this.maxIds)) {
      let gateways = this.entries.get(userId)
      const wasOnline = gateways !== undefined
      if (!gateways) {
        gateways = new Map()
        this.entries.set(userId, gateways)
      }
      gateways.set(update.gateway, entry)
      if (!wasOnline) this.emit({ userId, online: true })
    }
    for (const userId of (update.offline ?? []).slice(0, this.maxIds)) {
      const gateways = this.entries.get(userId)
      if (!gateways?.delete(update.gateway)) continue
      if (gateways.size === 0) {
        this.entries.delete(userId)
        this.emit({ userId, online: false, lastHeardAt: now, expired: false })
      }
    }
  }

  /** Drops lapsed entries; a user left with none went offline (their gateway stopped refreshing them). */
  sweep(now = Date.now()): void {
    for (const [userId, gateways] of this.entries) {
      let lastHeardAt = 0
      for (const [gateway, entry] of gateways) {
        if (entry.expiresAt <= now) {
          gateways.delete(gateway)
          lastHeardAt = Math.max(lastHeardAt, entry.heardAt)
        }
      }
      if (gateways.size === 0) {
        this.entries.delete(userId)
        this.emit({ userId, online: false, lastHeardAt, expired: true })
      }
    }
  }

  private emit(change: PresenceChange): void {
    for (const listener of this.listeners) listener(change)
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

function isUpdate(value: unknown): value is PresenceUpdate {
  const update = value as Partial<PresenceUpdate> | null
  return (
    typeof update?.gateway === 'string' &&
    typeof update.ttl_ms === 'number' &&
    update.ttl_ms > 0 &&
    update.ttl_ms <= 3_600_000 &&
    (update.online === undefined || isStringArray(update.online)) &&
    (update.offline === undefined || isStringArray(update.offline))
  )
}

/** A reader that knows nobody is online: for apps built without a bus to hear the gateways on. */
export const nobodyOnline: PresenceReader = { isOnline: () => false }
