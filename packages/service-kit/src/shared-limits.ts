import { sql, type Kysely } from 'kysely'
import type { Database } from '@chat/db'
import { createWindowCounter } from './window-counter.js'

/** Where limit counters live: this process's memory, or the database every replica shares. */
export type LimitStore = 'memory' | 'database'

/**
 * A fixed-window limit. `hit` counts one attempt of `key` and answers the
 * seconds to wait when that attempt is over the limit (0: allowed).
 */
export interface LimitCounter {
  hit(key: string): Promise<number>
  reset(key: string): Promise<void>
}

/** The limit in this process's memory: N replicas give N times the budget (standalone, tests). */
export function memoryLimitCounter(limit: number, windowMs: number): LimitCounter {
  const counter = createWindowCounter(limit, windowMs)
  return {
    async hit(key) {
      const wait = counter.retryAfter(key)
      if (wait > 0) return wait
      counter.hit(key)
      return 0
    },
    async reset(key) {
      counter.reset(key)
    }
  }
}

/** Every this many hits a process deletes a batch of expired windows. */
const SWEEP_EVERY = 500

/**
 * Counts one event of `key` in the `rate_limits` row of its window, in one
 * statement (atomic across replicas): a window that has ended starts again.
 */
export async function countInWindow(db: Kysely<Database>, key: string, windowMs: number): Promise<{ count: number; msLeft: number }> {
  const { rows } = await sql<{ count: number; ms_left: number }>`
    insert into rate_limits as r (key, count, reset_at)
    values (${key}, 1, now() + ${windowMs} * interval '1 millisecond')
    on conflict (key) do update set
      count = case when r.reset_at <= now() then 1 else r.count + 1 end,
      reset_at = case when r.reset_at <= now() then excluded.reset_at else r.reset_at end
    returning r.count, (extract(epoch from r.reset_at - now()) * 1000)::float8 as ms_left
  `.execute(db)
  const row = rows[0]
  if (!row) throw new Error('rate_limits upsert returned no row')
  return { count: row.count, msLeft: Math.max(0, row.ms_left) }
}

/**
 * Deletes up to 1,000 ended windows of `rate_limits`, the oldest first: the
 * rows of keys that stopped coming would otherwise stay forever. A batch, so
 * that one sweep never holds many row locks.
 */
export async function deleteEndedWindows(db: Kysely<Database>): Promise<void> {
  await sql`
    delete from rate_limits where key in (
      select key from rate_limits where reset_at < now() order by reset_at limit 1000
    )
  `.execute(db)
}

/** Every `SWEEP_EVERY` hits, a batch of ended windows goes. */
function sweeper(db: Kysely<Database>): () => void {
  let hits = 0
  return () => {
    hits += 1
    if (hits % SWEEP_EVERY !== 0) return
    deleteEndedWindows(db).catch(() => {
      // Best effort: the next sweep retries, and a stale row is reset on its next hit anyway.
    })
  }
}

/** The limit in the `rate_limits` table: every replica counts into the same window. `name` keeps limits apart. */
export function databaseLimitCounter(db: Kysely<Database>, options: { name: string; limit: number; windowMs: number }): LimitCounter {
  const sweep = sweeper(db)
  return {
    async hit(key) {
      if (options.limit <= 0) return 0
      const { count, msLeft } = await countInWindow(db, `${options.name}:${key}`, options.windowMs)
      sweep()
      return count > options.limit ? Math.max(1, Math.ceil(msLeft / 1000)) : 0
    },
    async reset(key) {
      if (options.limit <= 0) return
      await db.deleteFrom('rate_limits').where('key', '=', `${options.name}:${key}`).execute()
    }
  }
}

/** A counter in the store the settings name. */
export function limitCounter(store: LimitStore, db: Kysely<Database> | undefined, options: { name: string; limit: number; windowMs: number }): LimitCounter {
  return store === 'database' && db ? databaseLimitCounter(db, options) : memoryLimitCounter(options.limit, options.windowMs)
}
