import { sql, type Kysely } from 'kysely'
import type { EventBus } from '@chat/bus'
import { roomEventId, type RoomEventType } from '@chat/contracts'
import type { Database } from '@chat/db'
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api'
import { takeStranded, type EventTracing } from './event-tracing.js'
import { markPublished, publishStoredEvent, type EventsLogger } from './publish.js'

// First key of the relay's advisory locks: keeps them apart from other users of advisory locks.
const RELAY_LOCK_SPACE = 0x43484154

export interface RelayOptions {
  db: Kysely<Database>
  bus: EventBus
  logger: EventsLogger
  /** How often to look for stranded events. */
  intervalMs?: number
  /** An event younger than this is still being published by its writer. */
  staleAfterMs?: number
  batchSize?: number
  /**
   * Only events of these types (default: every type). A service relays the
   * types it writes: NATS lets each writer publish only those (deploy/nats),
   * and a refused publish would hold up every room behind it.
   */
  types?: readonly RoomEventType[]
  /** When the process traces: each re-publish is a trace of its own, linked to the send's when this process saw it fail. */
  tracing?: EventTracing
}

export interface RoomEventRelay {
  /** One pass; resolves to the number of events published. */
  runOnce(): Promise<number>
  /** Counted for the metrics (read on scrape, see outbox-metrics.ts). */
  readonly stats: Readonly<RelayStats>
  stop(): Promise<void>
}

export interface RelayStats {
  /** Events this relay published because their writer had not. */
  republished: number
  /** Publishes of the relay that failed (the bus is down); the event waits for the next pass. */
  failures: number
}

/**
 * Re-publishes committed events that their writer did not publish (it died
 * between commit and publish, or the bus was down). Runs in every writing
 * service; replicas share the work room by room (a transaction-scoped advisory
 * lock claims a room, `FOR UPDATE SKIP LOCKED` its rows), and a room's
 * events go out in seq order.
 */
export function startRoomEventRelay(options: RelayOptions): RoomEventRelay {
  const { db, bus, logger } = options
  const intervalMs = options.intervalMs ?? 1_000
  const staleAfterMs = options.staleAfterMs ?? 2_000
  const batchSize = options.batchSize ?? 200
  const types = options.types
  const tracing = options.tracing
  let stopped = false
  let running: Promise<number> | undefined
  const stats: RelayStats = { republished: 0, failures: 0 }

  const pass = async (): Promise<number> =>
    db.transaction().execute(async (trx) => {
      const staleBefore = new Date(Date.now() - staleAfterMs)
      const rooms = await trx
        .selectFrom('room_events_outbox')
        .select('room_id')
        .distinct()
        .where('created_at', '<', staleBefore)
        .$if(types !== undefined, (query) => query.where('type', 'in', [...(types ?? [])]))
        .limit(batchSize)
        .execute()
      const published: Array<{ roomId: string; seq: number }> = []
      let busFailed = false
      for (const { room_id: roomId } of rooms) {
        if (busFailed || published.length >= batchSize) break
        // A replica claims a whole room, so that one room's backlog is never
        // split between replicas and published interleaved. Held until commit.
        const claim = await sql<{ claimed: boolean }>`select pg_try_advisory_xact_lock(${RELAY_LOCK_SPACE}, hashtext(${roomId})) as claimed`.execute(trx)
        if (!claim.rows[0]?.claimed) continue
        const rows = await trx
          .selectFrom('room_events_outbox as o')
          .innerJoin('room_events as e', (join) => join.onRef('e.room_id', '=', 'o.room_id').onRef('e.seq', '=', 'o.seq'))
          .select(['o.seq', 'o.type', sql<string>`e.payload::text`.as('payload_text'), 'o.created_at'])
          .where('o.room_id', '=', roomId)
          .where('o.created_at', '<', staleBefore)
          .$if(types !== undefined, (query) => query.where('o.type', 'in', [...(types ?? [])]))
          .orderBy('o.seq')
          .limit(batchSize - published.length)
          .forUpdate('o')
          .skipLocked()
          .execute()
        for (const row of rows) {
          try {
            const event = { roomId, seq: row.seq, type: row.type as RoomEventType, payload: Buffer.from(row.payload_text), createdAt: row.created_at }
            await (tracing ? republishTraced(tracing, bus, event) : publishStoredEvent(bus, event))
            published.push({ roomId, seq: row.seq })
          } catch (error) {
            stats.failures++
            // The rest waits for the next pass: this room's later events to
            // keep its order, the other rooms because a bus that failed once
            // would likely make each of them wait out a publish timeout, with
            // this transaction's locks held.
            logger.warn({ err: error, room_id: roomId, seq: row.seq }, 'relay could not publish; will retry')
            busFailed = true
            break
          }
        }
      }
      await markPublished(trx, published)
      stats.republished += published.length
      if (published.length > 0) logger.warn({ events: published.length }, 'relay published stranded events')
      return published.length
    })

  const runOnce = (): Promise<number> => {
    running ??= pass().finally(() => { running = undefined })
    return running
  }

  let timer: NodeJS.Timeout | undefined
  // A pass that filled its batch goes again at once: after an outage of the
  // bus the backlog is every event written meanwhile (thousands a second),
  // and one batch per interval would take minutes to publish it.
  const schedule = (delayMs: number): void => {
    if (stopped) return
    timer = setTimeout(() => {
      runOnce()
        .then(
          (published) => schedule(published >= batchSize ? 0 : intervalMs),
          (error: unknown) => {
            logger.error({ err: error }, 'relay pass failed')
            schedule(intervalMs)
          }
        )
    }, delayMs)
    timer.unref()
  }
  schedule(intervalMs)

  return {
    runOnce,
    stats,
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running?.catch(() => undefined)
    }
  }
}

/** A re-publish in a new trace (the relay runs on its own), linked to the trace of the send that wrote the event when it is known. */
async function republishTraced(tracing: EventTracing, bus: EventBus, event: Parameters<typeof publishStoredEvent>[1]): Promise<void> {
  const original = takeStranded(tracing, event.roomId, event.seq)
  const span = tracing.tracer.startSpan('relay re-publish', {
    root: true,
    kind: SpanKind.INTERNAL,
    links: original ? [{ context: original }] : [],
    attributes: { 'chat.room_id': event.roomId, 'chat.seq': event.seq, 'chat.event_type': event.type }
  })
  try {
    await context.with(trace.setSpan(context.active(), span), () => publishStoredEvent(bus, event))
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
    // The next pass links to it again.
    if (original) tracing.stranded.set(roomEventId(event.roomId, event.seq), original)
    throw error
  } finally {
    span.end()
  }
}
