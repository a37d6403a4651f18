import { sql, type Kysely } from 'kysely'
import type { Database } from '@chat/db'
import { counterFrom, gaugeFrom, type Registry } from '@chat/service-kit'
import type { RoomEventRelay } from './relay.js'

/** The outbox as one scrape sees it. */
export interface OutboxState {
  /** Committed events still in the outbox (not yet known to be published). */
  backlog: number
  /** Age of the oldest of them in seconds; 0 when there is none. */
  oldestAgeSeconds: number
}

/**
 * One query on `room_events_outbox` (only the unpublished events are in it,
 * a handful normally), so a scrape stays cheap however large `room_events`
 * grows.
 */
export async function readOutboxState(db: Kysely<Database>): Promise<OutboxState> {
  const { rows } = await sql<{ backlog: string | number; oldest_age: number | string | null }>`
    select count(*) as backlog, extract(epoch from now() - min(created_at))::float8 as oldest_age
    from room_events_outbox`.execute(db)
  const row = rows[0]
  return { backlog: Number(row?.backlog ?? 0), oldestAgeSeconds: Math.max(0, Number(row?.oldest_age ?? 0)) }
}

/**
 * `room_events_outbox_backlog` and `room_events_outbox_oldest_age_seconds`,
 * read from the database on scrape (both gauges share the one query of a
 * scrape). Every writing service exports them for the whole table: alerts
 * take the max over the services.
 */
export function registerOutboxMetrics(registry: Registry, db: Kysely<Database>): void {
  let reading: Promise<OutboxState> | undefined
  // Both collect() calls of one scrape start within the same tick: they share a read.
  const read = (): Promise<OutboxState> => {
    // An unreachable database must not fail the whole scrape: the gauges read NaN (unknown) meanwhile.
    reading ??= readOutboxState(db)
      .catch(() => ({ backlog: Number.NaN, oldestAgeSeconds: Number.NaN }))
      .finally(() => setImmediate(() => { reading = undefined }))
    return reading
  }
  gaugeFrom(registry, 'room_events_outbox_backlog', 'committed room events not yet published to the bus (the outbox)', async () => (await read()).backlog)
  gaugeFrom(registry, 'room_events_outbox_oldest_age_seconds', 'age of the oldest unpublished room event; 0 when the outbox is empty', async () => (await read()).oldestAgeSeconds)
}

/** `room_events_relay_republished_total` and `room_events_relay_publish_failures_total` of the process's relay. */
export function registerRelayMetrics(registry: Registry, relay: Pick<RoomEventRelay, 'stats'>): void {
  counterFrom(registry, 'room_events_relay_republished_total', 'stranded room events the relay published (their writer had not)', () => relay.stats.republished)
  counterFrom(registry, 'room_events_relay_publish_failures_total', 'publishes of the relay that failed; the event waits for the next pass', () => relay.stats.failures)
}
