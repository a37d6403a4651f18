import { sql, type Kysely } from 'kysely'
import type { Database } from '@chat/db'
import { deleteEndedWindows } from './shared-limits.js'

/** What @fastify/rate-limit calls a store: `incr` answers the count of the key's window and the time left of it. */
export interface RateLimitStore {
  incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number, max: number): void
  child(routeOptions: unknown): RateLimitStore
}

/** Every this many syncs, a batch of ended windows is deleted. */
const SWEEP_EVERY_SYNCS = 240

interface Window {
  /** The count every replica had written when this process last synced, this process's flushed hits included. */
  shared: number
  /** This process's hits not yet written. */
  pending: number
  resetAt: number
  windowMs: number
}

/**
 * The per-user request limit shared by every replica without a database
 * write per request: each process counts locally and, every `syncMs`, adds
 * its counts to the `rate_limits` rows in one statement and reads back the
 * totals. A request is judged on the last known total plus this process's
 * unsent hits, so N replicas overshoot the limit by at most what they admit
 * in one sync interval, instead of N times the budget; the send path pays a
 * map lookup, not a round trip. Login and registration limits, which must
 * be exact, count per attempt (databaseLimitCounter).
 */
export function syncedRateLimitStore(
  db: Kysely<Database>,
  options: { syncMs?: number; onError?: (error: unknown) => void } = {}
): { Store: new (options: unknown) => RateLimitStore; sync(): Promise<void>; close(): Promise<void> } {
  const syncMs = options.syncMs ?? 250
  const windows = new Map<string, Window>()
  let syncing: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined

  let syncs = 0
  let failing = false
  const sync = (): Promise<void> => {
    syncs += 1
    syncing = syncing.then(async () => {
      const now = Date.now()
      // Every live window, also one with nothing to add: its total is read again, so a replica
      // that admits nothing meanwhile still learns what the others admitted.
      const batch: Array<[string, Window, number]> = []
      for (const [key, window] of windows) {
        if (window.pending === 0 && window.resetAt <= now) windows.delete(key)
        else batch.push([key, window, window.pending])
      }
      if (batch.length === 0) return
      const values = sql.join(batch.map(([key, window, count]) => sql`(${`requests:${key}`}, ${count}::int, now() + ${window.windowMs} * interval '1 millisecond')`))
      try {
        const { rows } = await sql<{ key: string; count: number; ms_left: number }>`
          insert into rate_limits as r (key, count, reset_at) values ${values}
          on conflict (key) do update set
            count = case when r.reset_at <= now() then excluded.count else r.count + excluded.count end,
            reset_at = case when r.reset_at <= now() then excluded.reset_at else r.reset_at end
          returning r.key, r.count, (extract(epoch from r.reset_at - now()) * 1000)::float8 as ms_left
        `.execute(db)
        const byKey = new Map(rows.map((row) => [row.key, row]))
        const at = Date.now()
        for (const [key, window, sent] of batch) {
          const row = byKey.get(`requests:${key}`)
          window.pending -= sent
          if (row) {
            window.shared = row.count
            window.resetAt = at + Math.max(0, row.ms_left)
          }
        }
        // Ended windows of keys that stopped coming, a batch now and then.
        if (syncs % SWEEP_EVERY_SYNCS === 0) {
          await deleteEndedWindows(db)
        }
        failing = false
      } catch (error) {
        // The counts stay pending and go with the next sync; meanwhile this process still limits on what it knows.
        // Told once per outage, not every quarter second.
        if (!failing) options.onError?.(error)
        failing = true
      }
    })
    return syncing
  }

  const schedule = (): void => {
    if (timer) return
    timer = setTimeout(() => {
      timer = undefined
      void sync().then(() => {
        if (windows.size > 0) schedule()
      })
    }, syncMs)
    timer.unref()
  }

  class SyncedRateLimitStore implements RateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      const now = Date.now()
      let window = windows.get(key)
      if (!window || window.resetAt <= now) {
        window = { shared: 0, pending: 0, resetAt: now + timeWindow, windowMs: timeWindow }
        windows.set(key, window)
      }
      window.pending += 1
      schedule()
      callback(null, { current: window.shared + window.pending, ttl: window.resetAt - now })
    }
    child(): RateLimitStore {
      return this
    }
  }

  return {
    Store: SyncedRateLimitStore,
    sync,
    async close() {
      if (timer) clearTimeout(timer)
      timer = undefined
      await sync()
    }
  }
}
