import t from 'tap'
import { Registry } from '@chat/service-kit'
import { createInProcessBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { createTestDatabase } from '@chat/db/testing'
import { flakyBus, metricValue } from '@chat/service-kit/testing'
import { appendRoomEvent, createRoomEventPublisher, registerOutboxMetrics, registerRelayMetrics, startRoomEventRelay } from '../src/index.js'
import { seedRoom, silentLogger } from './helper.js'

const user = { id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f', display_name: 'Ada', created_at: '2026-11-26T20:15:00.123Z' }

t.test('the outbox gauges count what the bus did not take, and the relay counter what it sent later', async (t) => {
  const { db } = await createTestDatabase(t)
  const inner = createInProcessBus()
  t.teardown(() => inner.close())
  const bus = flakyBus(inner, true)
  const registry = new Registry()
  registerOutboxMetrics(registry, db)
  t.equal(await metricValue(registry, 'room_events_outbox_backlog'), 0, 'an empty outbox')
  t.equal(await metricValue(registry, 'room_events_outbox_oldest_age_seconds'), 0, 'no age without an event')

  const { roomId } = await seedRoom(db)
  const publisher = createRoomEventPublisher({ db, bus, logger: silentLogger, flushMs: 5 })
  for (let index = 0; index < 3; index++) {
    const event = await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
    await publisher.publish([event])
  }
  await publisher.flush()
  // The oldest event's age is measured by the database's clock: let it grow.
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(await metricValue(registry, 'room_events_outbox_backlog'), 3, 'three events stranded while the bus is down')
  const age = await metricValue(registry, 'room_events_outbox_oldest_age_seconds')
  t.ok(age >= 0.25 && age < 30, `the oldest is about 0.3 s old (${age})`)

  const relay = startRoomEventRelay({ db, bus, logger: silentLogger, intervalMs: 60_000, staleAfterMs: 0 })
  t.teardown(() => relay.stop())
  registerRelayMetrics(registry, relay)
  t.equal(await relay.runOnce(), 0, 'nothing gets out while the bus is down')
  t.equal(await metricValue(registry, 'room_events_relay_publish_failures_total'), 1, 'the failed publish is counted')
  t.equal(await metricValue(registry, 'room_events_relay_republished_total'), 0)
  bus.down = false
  t.equal(await relay.runOnce(), 3)
  t.equal(await metricValue(registry, 'room_events_relay_republished_total'), 3, 're-publishes are counted')
  t.equal(await metricValue(registry, 'room_events_outbox_backlog'), 0, 'the outbox is empty again')
  t.equal(await metricValue(registry, 'room_events_outbox_oldest_age_seconds'), 0)
  await publisher.close()
})

t.test('one scrape reads the outbox once, and an unreachable database makes the gauges unknown, not the scrape fail', async (t) => {
  const { db } = await createTestDatabase(t)
  const registry = new Registry()
  let queries = 0
  const counted = db.withPlugin({
    transformQuery: (args) => { queries++; return args.node },
    transformResult: async (args) => args.result
  })
  registerOutboxMetrics(registry, counted)
  await registry.metrics()
  t.equal(queries, 1, 'both gauges from one query')
  // Nothing listens on port 1: the connection is refused at once.
  const unreachable = await createDb('postgres://127.0.0.1:1/chat')
  t.teardown(() => unreachable.destroy())
  const broken = new Registry()
  registerOutboxMetrics(broken, unreachable.db)
  const text = await broken.metrics()
  t.match(text, /room_events_outbox_backlog nan/i)
  t.match(text, /room_events_outbox_oldest_age_seconds nan/i)
})
