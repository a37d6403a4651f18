import t from 'tap'
import { createInProcessBus } from '@chat/bus'
import { createTestDatabase } from '@chat/db/testing'
import { envelopeHeaders } from '@chat/contracts'
import { appendRoomEvent, createRoomEventPublisher, startRoomEventRelay } from '../src/index.js'
import { flakyBus } from '@chat/service-kit/testing'
import { collect, seedRoom, silentLogger, waitFor } from './helper.js'

const user = { id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f', display_name: 'Ada', created_at: '2026-11-26T20:15:00.123Z' }

t.test('published after commit with the envelope in headers, then marked', async (t) => {
  const { db } = await createTestDatabase(t)
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  const { roomId } = await seedRoom(db)
  const received = await collect(bus, `chat.room.${roomId}.>`)
  const publisher = createRoomEventPublisher({ db, bus, logger: silentLogger, flushMs: 10 })
  const event = await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
  await publisher.publish([event], 'req-42')
  await waitFor(() => received.length === 1)
  const [message] = received
  t.equal(message?.subject, `chat.room.${roomId}.participants.added`)
  t.equal(message?.header(envelopeHeaders.seq), '1')
  t.equal(message?.header(envelopeHeaders.eventId), `${roomId}:1`)
  t.equal(message?.header(envelopeHeaders.requestId), 'req-42')
  t.equal(message?.header('Nats-Msg-Id'), `${roomId}:1`)
  t.same(JSON.parse(Buffer.from(message?.data ?? []).toString()), { type: 'participants.added', room_id: roomId, seq: 1, users: [user] })
  await publisher.flush()
  t.same(await db.selectFrom('room_events_outbox').select('seq').execute(), [], 'marked published: out of the outbox')
  await publisher.close()
})

t.test('events committed while the bus is down are published by the relay, in order', async (t) => {
  const { db } = await createTestDatabase(t)
  const inner = createInProcessBus()
  t.teardown(() => inner.close())
  const bus = flakyBus(inner)
  const { roomId } = await seedRoom(db)
  const received = await collect(inner, `chat.room.${roomId}.>`)
  const publisher = createRoomEventPublisher({ db, bus, logger: silentLogger, flushMs: 10 })
  const first = await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
  await publisher.publish([first])
  await waitFor(() => received.length === 1)
  bus.down = true
  for (let index = 0; index < 3; index++) {
    const event = await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.removed', { users: [user] }))
    await publisher.publish([event])
  }
  await publisher.flush()
  t.equal(received.length, 1, 'only the first got out')
  const unpublished = await db.selectFrom('room_events_outbox').select('seq').orderBy('seq').execute()
  t.same(unpublished.map((row) => row.seq), [2, 3, 4], 'the outbox keeps what did not get out')

  const relay = startRoomEventRelay({ db, bus, logger: silentLogger, intervalMs: 50, staleAfterMs: 0 })
  t.teardown(() => relay.stop())
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(received.length, 1, 'nothing while the bus is still down')
  bus.down = false
  await waitFor(() => received.length === 4)
  t.same(received.map((message) => message.header(envelopeHeaders.seq)), ['1', '2', '3', '4'])
  await waitFor(async () => (await db.selectFrom('room_events_outbox').select('seq').execute()).length === 0)
  await publisher.close()
})

t.test('events are published unacknowledged and marked only once one flush confirms them all', async (t) => {
  const { db } = await createTestDatabase(t)
  const inner = createInProcessBus()
  t.teardown(() => inner.close())
  const bus = flakyBus(inner)
  const confirms: string[] = []
  bus.publish = (subject, data, options) => {
    confirms.push(options?.confirm ?? 'stored')
    return inner.publish(subject, data, options)
  }
  let flushes = 0
  let flushFails = true
  bus.flush = () => {
    flushes += 1
    return flushFails ? Promise.reject(new Error('connection lost before the PONG')) : inner.flush()
  }
  const { roomId } = await seedRoom(db)
  const publisher = createRoomEventPublisher({ db, bus, logger: silentLogger, flushMs: 10 })
  const unpublished = async (): Promise<number[]> =>
    (await db.selectFrom('room_events_outbox').select('seq').orderBy('seq').execute()).map((row) => row.seq)
  const append = (): ReturnType<typeof appendRoomEvent> => db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))

  await publisher.publish([await append(), await append(), await append()])
  await publisher.flush()
  t.same(confirms, ['none', 'none', 'none'], 'no acknowledgement awaited per event')
  t.equal(flushes, 1, 'one round trip for the three')
  t.same(await unpublished(), [1, 2, 3], 'unconfirmed: left for the relay, though the bus took them')

  flushFails = false
  await publisher.publish([await append(), await append()])
  await publisher.flush()
  t.equal(flushes, 2)
  t.same(await unpublished(), [1, 2, 3], 'confirmed ones are marked')
  await publisher.close()
})

t.test('while the bus is down, a relay pass gives up at the first failure', async (t) => {
  const { db } = await createTestDatabase(t)
  const inner = createInProcessBus()
  t.teardown(() => inner.close())
  const bus = flakyBus(inner)
  let attempts = 0
  const publish = bus.publish.bind(bus)
  bus.publish = (subject, data, options) => { attempts += 1; return publish(subject, data, options) }
  for (const name of ['a', 'b', 'c', 'd']) {
    const { roomId } = await seedRoom(db, name)
    await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
  }
  bus.down = true
  const relay = startRoomEventRelay({ db, bus, logger: silentLogger, intervalMs: 60_000, staleAfterMs: 0 })
  t.teardown(() => relay.stop())
  t.equal(await relay.runOnce(), 0)
  t.equal(attempts, 1, 'one failed publish, not one per room')
  bus.down = false
  t.equal(await relay.runOnce(), 4, 'all of them on the next pass')
})

t.test('a backlog larger than a batch goes out in back-to-back passes, not one batch per interval', async (t) => {
  const { db } = await createTestDatabase(t)
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  const { roomId } = await seedRoom(db)
  for (let index = 0; index < 40; index++) {
    await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
  }
  const received = await collect(bus, `chat.room.${roomId}.>`)
  const startedAt = Date.now()
  // Four batches: one per interval would take 8 s; back to back, the first interval and a moment.
  const relay = startRoomEventRelay({ db, bus, logger: silentLogger, intervalMs: 2_000, staleAfterMs: 0, batchSize: 10 })
  t.teardown(() => relay.stop())
  await waitFor(() => received.length === 40, 20_000)
  t.ok(Date.now() - startedAt < 5_500, `published in ${Date.now() - startedAt} ms`)
  t.same(received.map((message) => Number(message.header(envelopeHeaders.seq))), Array.from({ length: 40 }, (_, index) => index + 1), 'in order')
})

t.test('replicas share the relay work: each stranded event goes out once', async (t) => {
  const { db } = await createTestDatabase(t)
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  const rooms = await Promise.all([seedRoom(db, 'a'), seedRoom(db, 'b'), seedRoom(db, 'c')])
  for (const { roomId } of rooms) {
    for (let index = 0; index < 20; index++) {
      await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
    }
  }
  const received = await collect(bus, 'chat.room.>')
  const relays = [1, 2, 3].map(() => startRoomEventRelay({ db, bus, logger: silentLogger, intervalMs: 60_000, staleAfterMs: 0, batchSize: 25 }))
  t.teardown(() => Promise.all(relays.map((relay) => relay.stop())))
  let total = 0
  for (let round = 0; round < 4; round++) {
    const counts = await Promise.all(relays.map((relay) => relay.runOnce()))
    total += counts.reduce((sum, count) => sum + count, 0)
  }
  t.equal(total, 60)
  await waitFor(() => received.length === 60)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(received.length, 60, 'no event twice')
  for (const { roomId } of rooms) {
    const seqs = received.filter((message) => message.subject.includes(roomId)).map((message) => Number(message.header(envelopeHeaders.seq)))
    t.same(seqs, Array.from({ length: 20 }, (_, index) => index + 1), 'in seq order per room')
  }
})
