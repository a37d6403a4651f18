import { sql, type Kysely } from 'kysely'
import type { EventBus } from '@chat/bus'
import { envelopeToHeaders, roomEventId, subjects } from '@chat/contracts'
import type { Database } from '@chat/db'
import { context, type Context } from '@opentelemetry/api'
import type { StoredRoomEvent } from './append.js'
import { rememberStranded, type EventTracing } from './event-tracing.js'

/** An event to publish, with the request id and, when the process traces, the trace context of the send that wrote it. */
export type PublishableEvent = StoredRoomEvent & { requestId?: string; traceContext?: Context }

/** The subset of a pino logger used here. */
export interface EventsLogger {
  warn(object: Record<string, unknown>, message: string): void
  error(object: Record<string, unknown>, message: string): void
  debug?(object: Record<string, unknown>, message: string): void
}

/**
 * Publishes one stored event with its envelope in the headers and
 * `<room_id>:<seq>` as message id. `confirm: 'none'` does not wait for the
 * stream's acknowledgement (the caller confirms a group with `bus.flush()`).
 */
export async function publishStoredEvent(
  bus: EventBus,
  event: Pick<StoredRoomEvent, 'roomId' | 'seq' | 'type' | 'payload' | 'createdAt'>,
  requestId?: string,
  confirm?: 'none'
): Promise<void> {
  const eventId = roomEventId(event.roomId, event.seq)
  await bus.publish(subjects.roomEvent(event.roomId, event.type), event.payload, {
    msgId: eventId,
    ...(confirm ? { confirm } : {}),
    headers: envelopeToHeaders({
      event_id: eventId,
      room_id: event.roomId,
      seq: event.seq,
      type: event.type,
      time: event.createdAt.toISOString(),
      ...(requestId ? { request_id: requestId } : {})
    })
  })
}

/** Takes the given events out of the outbox (`room_events_outbox`, migration 0008), in one statement. */
export async function markPublished(db: Kysely<Database>, events: ReadonlyArray<{ roomId: string; seq: number }>): Promise<void> {
  if (events.length === 0) return
  const keys = sql.join(events.map((event) => sql`(${event.roomId}::uuid, ${event.seq}::bigint)`))
  await db.deleteFrom('room_events_outbox').where(sql<boolean>`(room_id, seq) in (${keys})`).execute()
}

export interface RoomEventPublisher {
  /**
   * Publishes committed events in order, after the transaction that wrote
   * them, each with its own request id or the one given. Never throws: an
   * event that fails to publish stays unpublished in the outbox and the relay
   * sends it. The events go out one after the other without waiting for any
   * acknowledgement; one round trip after the last (`bus.flush()`) confirms
   * that the server has them all, and only then are they marked published.
   * A caller may also leave it running: the group commit of sends answers
   * before it resolves.
   */
  publish(events: readonly PublishableEvent[], requestId?: string): Promise<void>
  /** Deletes the outbox rows of the events confirmed so far (their marks). */
  flush(): Promise<void>
  close(): Promise<void>
}

/**
 * Publishes events right after commit. Their outbox rows are deleted in
 * batches (every `flushMs`), not one statement per event: a mark that is
 * late or lost only makes the relay re-publish, which JetStream drops as a
 * duplicate and the gateway drops by seq.
 */
export function createRoomEventPublisher(options: { db: Kysely<Database>; bus: EventBus; logger: EventsLogger; flushMs?: number; tracing?: EventTracing }): RoomEventPublisher {
  const { db, bus, logger, tracing } = options
  const flushMs = options.flushMs ?? 50
  let pending: Array<{ roomId: string; seq: number }> = []
  let timer: NodeJS.Timeout | undefined
  let flushing: Promise<void> = Promise.resolve()

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer)
    timer = undefined
    const batch = pending
    pending = []
    flushing = flushing.then(() =>
      markPublished(db, batch).catch((error: unknown) => {
        logger.warn({ err: error, events: batch.length }, 'could not mark events published; the relay will re-publish them')
      })
    )
    return flushing
  }

  const strand = (event: PublishableEvent, error: unknown, message?: string): void => {
    if (tracing) rememberStranded(tracing, event.roomId, event.seq, event.traceContext)
    if (message) logger.warn({ err: error, room_id: event.roomId, seq: event.seq }, message)
  }

  return {
    async publish(events, requestId) {
      // Nothing to send, nothing to confirm (no round trip).
      if (events.length === 0) return
      // Sent in order on one connection (each publish is written before the
      // next starts), and not acknowledged one by one: the live path needs
      // no JetStream answer per event (the gateways read core delivery and
      // fill gaps from the store), and waiting for one cost more CPU than
      // the rest of the publish. A failed one leaves a gap the gateway fills
      // from the store, and the relay publishes it later.
      const sent: PublishableEvent[] = []
      const publishing = events.map((event) => {
        const send = (): Promise<void> => publishStoredEvent(bus, event, event.requestId ?? requestId, 'none')
        // A batch of sends publishes after its commit: each event in the trace of the send that wrote it.
        const published = tracing && event.traceContext ? context.with(event.traceContext, send) : send()
        return published.then(
          () => void sent.push(event),
          (error: unknown) => strand(event, error, 'publishing a committed event failed; the relay will publish it')
        )
      })
      // Asked in the same turn as the publishes, so that the PING goes out in
      // the same socket write as they do: on this path every write that wakes
      // another process costs more CPU than the rest of the publish. The
      // server answers it after it has taken every publish before it.
      const confirmation = bus.flush().then(
        () => undefined,
        (error: unknown) => ({ error })
      )
      await Promise.all(publishing)
      const failed = await confirmation
      if (sent.length === 0) return
      if (failed) {
        // The connection may have dropped with some of them unsent: left unmarked, the relay sends them again (JetStream drops repeats).
        for (const event of sent) strand(event, failed.error)
        logger.warn({ err: failed.error, events: sent.length }, 'could not confirm that the bus received committed events; the relay will publish them')
        return
      }
      for (const event of sent) pending.push({ roomId: event.roomId, seq: event.seq })
      if (pending.length > 0 && !timer) {
        timer = setTimeout(() => { void flush() }, flushMs)
        timer.unref()
      }
    },
    flush,
    async close() {
      await flush()
    }
  }
}

/** The part of a Fastify app that {@link appRoomEventPublisher} uses. */
export interface PublisherHost {
  log: EventsLogger
  addHook(name: 'onClose', hook: () => Promise<void>): unknown
}

/**
 * The publisher of a service app: the one it is given (the standalone process
 * shares one between its plugins; tests and benchmarks tune `flushMs`), else
 * one of its own that logs through the app and is closed with it, after the
 * last request, so that its final batch of marks reaches the database before
 * the process closes the pool.
 */
export function appRoomEventPublisher(app: PublisherHost, deps: { db: Kysely<Database>; bus: EventBus; publisher?: RoomEventPublisher; eventTracing?: EventTracing }): RoomEventPublisher {
  if (deps.publisher) return deps.publisher
  const owned = createRoomEventPublisher({ db: deps.db, bus: deps.bus, logger: app.log, tracing: deps.eventTracing })
  app.addHook('onClose', () => owned.close())
  return owned
}
