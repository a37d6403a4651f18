// Room events in traces, over NATS, with the OpenTelemetry SDK recording in
// memory: an event is published in the trace of the send that wrote it (its
// traceparent in the NATS headers); an event whose publish failed is
// re-published by the relay in a trace of its own, linked to that send's;
// without a tracer nothing is added to the headers, even inside a traced
// request (tracing off costs nothing).
import t from 'tap'
import { context, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createTestDatabase } from '@chat/db/testing'
import { flakyBus, natsBusOrSkip } from '@chat/service-kit/testing'
import { appendRoomEvent, createEventTracing, createRoomEventPublisher, startRoomEventRelay } from '../src/index.js'
import { collect, seedRoom, silentLogger, waitFor } from './helper.js'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
propagation.setGlobalPropagator(new W3CTraceContextPropagator())
const tracer = provider.getTracer('test')
const user = { id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f', display_name: 'Ada', created_at: '2026-11-26T20:15:00.123Z' }

// The real CHAT_EVENTS stream (as nats-relay.test.ts); unique room ids keep runs apart.
const tracedBus = await natsBusOrSkip(t, { name: 'room-events-tracing', tracer })
const plainBus = tracedBus && (await natsBusOrSkip(t, { name: 'room-events-untraced' }))

if (tracedBus && plainBus) {
  t.teardown(() => tracedBus.close())
  t.teardown(() => plainBus.close())

  t.test('an event goes out in the trace of the send that wrote it, also when published after the request', async (t) => {
    const { db } = await createTestDatabase(t)
    const { roomId } = await seedRoom(db)
    const received = await collect(plainBus, `chat.room.${roomId}.>`)
    const publisher = createRoomEventPublisher({ db, bus: tracedBus, logger: silentLogger, flushMs: 5, tracing: createEventTracing(tracer) })
    t.teardown(() => publisher.close())
    const send = tracer.startSpan('POST /messages/:room_id')
    const event = await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
    // As the send batcher does: the event carries its send's context, the publish runs outside it.
    await publisher.publish([{ ...event, traceContext: trace.setSpan(context.active(), send) }])
    send.end()
    await waitFor(() => received.length === 1)
    const publish = exporter.getFinishedSpans().find((span) => span.name === 'publish chat.room.*.participants.added' && span.spanContext().traceId === send.spanContext().traceId)
    t.ok(publish, 'a publish span in the send\'s trace')
    if (!publish) return
    t.equal(publish.parentSpanContext?.spanId, send.spanContext().spanId, 'a child of the send')
    t.equal(received[0]?.header('traceparent'), `00-${send.spanContext().traceId}-${publish.spanContext().spanId}-01`, 'the NATS headers carry it (W3C traceparent)')
    t.equal(received[0]?.header('Chat-Seq'), '1', 'beside the envelope')
  })

  t.test('a stranded event: the relay re-publishes it in a new trace linked to the send that wrote it', async (t) => {
    const { db } = await createTestDatabase(t)
    const bus = flakyBus(tracedBus, true)
    const { roomId } = await seedRoom(db)
    const received = await collect(plainBus, `chat.room.${roomId}.>`)
    const tracing = createEventTracing(tracer)
    const publisher = createRoomEventPublisher({ db, bus, logger: silentLogger, flushMs: 5, tracing })
    t.teardown(() => publisher.close())
    const send = tracer.startSpan('POST /messages/:room_id')
    const event = await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
    await publisher.publish([{ ...event, traceContext: trace.setSpan(context.active(), send) }])
    send.end()
    t.equal(tracing.stranded.size, 1, 'the failed publish is remembered with its trace')

    bus.down = false
    const relay = startRoomEventRelay({ db, bus, logger: silentLogger, intervalMs: 60_000, staleAfterMs: 0, tracing })
    t.teardown(() => relay.stop())
    t.equal(await relay.runOnce(), 1)
    await waitFor(() => received.length === 1)
    const republish = exporter.getFinishedSpans().find((span) => span.name === 'relay re-publish' && span.attributes['chat.room_id'] === roomId)
    t.ok(republish, 'a relay span')
    if (!republish) return
    t.not(republish.spanContext().traceId, send.spanContext().traceId, 'in a trace of its own')
    t.notOk(republish.parentSpanContext, 'a root')
    t.same(republish.links.map((link) => link.context.spanId), [send.spanContext().spanId], 'linked to the send')
    t.match(received[0]?.header('traceparent'), new RegExp(`^00-${republish.spanContext().traceId}-[0-9a-f]{16}-01$`), 'the re-published message carries the relay\'s trace')
    t.equal(tracing.stranded.size, 0, 'the link is forgotten once used')
  })

  t.test('without a tracer nothing is traced, even inside a traced request', async (t) => {
    const { db } = await createTestDatabase(t)
    const { roomId } = await seedRoom(db)
    const received = await collect(plainBus, `chat.room.${roomId}.>`)
    const publisher = createRoomEventPublisher({ db, bus: plainBus, logger: silentLogger, flushMs: 5 })
    t.teardown(() => publisher.close())
    const before = exporter.getFinishedSpans().length
    const request = tracer.startSpan('a traced request')
    const event = await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
    await context.with(trace.setSpan(context.active(), request), () => publisher.publish([event]))
    request.end()
    await waitFor(() => received.length === 1)
    t.equal(received[0]?.header('traceparent'), undefined, 'no traceparent in the headers')
    t.equal(exporter.getFinishedSpans().length, before + 1, 'and no span but the test\'s own')
  })
}
