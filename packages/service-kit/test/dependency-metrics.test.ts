// The metrics a process adds beside the per-route RED metrics: its bus (with
// a nats-server of its own, stopped and started again), its pg pool, and the
// 429s by limit. Each test makes its metric move.
import t from 'tap'
import { sql } from 'kysely'
import { connectNatsBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { createTestDatabase } from '@chat/db/testing'
import { findNatsServer, startNatsServer } from '@chat/process-kit'
import { createServiceApp, createTokenVerifier, generateSigningKey, registerDependencyMetrics, Registry, staticKeyResolver } from '../src/index.js'
import { metricValue, waitFor } from '../src/testing.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

t.test('the bus: publish failures, connection state and reconnects', { skip: findNatsServer() ? false : 'nats-server is not installed' }, async (t) => {
  const server = await startNatsServer()
  t.teardown(() => server.destroy())
  const bus = await connectNatsBus({ url: server.url, stream: { name: `METRICS_${Date.now()}`, subjects: ['metrics.>'] } })
  t.teardown(() => bus.close())
  const registry = new Registry()
  registerDependencyMetrics(registry, { busStats: bus.stats })
  await bus.publish('metrics.ok', bytes('{}'))
  t.equal(await metricValue(registry, 'nats_connected'), 1, 'connected')
  t.equal(await metricValue(registry, 'bus_publish_failures_total'), 0, 'a publish that worked is no failure')

  await server.stop()
  await waitFor(async () => (await metricValue(registry, 'nats_connected')) === 0, 10_000)
  t.pass('the lost connection shows as 0')
  await t.rejects(bus.publish('metrics.lost', bytes('{}')), 'a stream publish without a server fails')
  t.equal(await metricValue(registry, 'bus_publish_failures_total'), 1, 'and is counted')

  await server.start()
  await waitFor(async () => (await metricValue(registry, 'nats_connected')) === 1, 20_000)
  t.equal(await metricValue(registry, 'nats_reconnects_total'), 1, 'the reconnect is counted')
  await bus.close()
  await t.rejects(bus.publish('metrics.closed', bytes('{}')))
  t.equal(await metricValue(registry, 'bus_publish_failures_total'), 2, 'a publish on a closed bus is a failure too')
  await waitFor(async () => (await metricValue(registry, 'nats_connected')) === 0)
  t.pass('a closed bus is not connected')
})

t.test('the pg pool: total, idle, waiting and max', async (t) => {
  const { url, kind } = await createTestDatabase(t)
  if (kind !== 'postgres') {
    t.skip('PGlite has no pool', () => {})
    return
  }
  const database = await createDb(url, { poolSize: 2 })
  t.teardown(() => database.destroy())
  const registry = new Registry()
  registerDependencyMetrics(registry, { poolStats: database.poolStats })
  t.equal(await metricValue(registry, 'db_pool_max_connections'), 2)
  t.equal(await metricValue(registry, 'db_pool_connections'), 0, 'no connection before the first query')
  const sleeping = Promise.all([1, 2, 3].map(() => sql`select pg_sleep(0.4)`.execute(database.db)))
  await waitFor(async () => (await metricValue(registry, 'db_pool_waiting_queries')) === 1)
  t.equal(await metricValue(registry, 'db_pool_connections'), 2, 'the pool is full')
  t.equal(await metricValue(registry, 'db_pool_idle_connections'), 0, 'and every connection is in use')
  await sleeping
  t.equal(await metricValue(registry, 'db_pool_waiting_queries'), 0, 'nobody waits afterwards')
  t.equal(await metricValue(registry, 'db_pool_idle_connections'), 2, 'the connections are idle again')
})

t.test('429s are counted by the limit they hit', async (t) => {
  const app = await createServiceApp({ title: 't', verifier: createTokenVerifier(staticKeyResolver([generateSigningKey()])), readiness: {}, userRps: 1, logger: false })
  app.get('/work', async () => ({ ok: true }))
  t.teardown(() => app.close())
  const statuses: number[] = []
  for (let index = 0; index < 3; index++) statuses.push((await app.inject({ url: '/work' })).statusCode)
  t.same(statuses, [200, 200, 429], 'a burst of two, then the limit')
  t.equal(await metricValue(app.metrics, 'rate_limited_total', { limit: 'user_requests' }), 1)
  const scrape = await app.inject({ url: '/metrics' })
  t.match(scrape.body, /rate_limited_total\{limit="user_requests"\} 1/, 'on /metrics too')
})
