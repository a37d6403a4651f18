import t from 'tap'
import { createDb } from '@chat/db'
import { createTestDatabase } from '@chat/db/testing'
import { createServiceApp, createTokenVerifier, generateSigningKey, readinessChecks, staticKeyResolver, type OverloadOptions, type ReadinessCheck } from '../src/index.js'

async function appWith(overload: OverloadOptions, readiness: Record<string, ReadinessCheck> = {}) {
  const app = await createServiceApp({
    title: 't',
    verifier: createTokenVerifier(staticKeyResolver([generateSigningKey()])),
    readiness,
    userRps: 0,
    logger: false,
    overload
  })
  app.get('/work', async () => ({ ok: true }))
  await app.ready()
  return app
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000, duringWait: () => void = () => {}): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    duringWait()
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

t.test('past the heap threshold requests get a 503 problem with Retry-After; health probes and metrics are still answered', async (t) => {
  const app = await appWith({ maxHeapUsedBytes: 1, maxEventLoopDelayMs: 0, retryAfterSeconds: 7, sampleIntervalMs: 20 })
  t.teardown(() => app.close())
  await until(() => app.isUnderPressure(), 'under pressure')
  const shed = await app.inject({ url: '/work' })
  t.equal(shed.statusCode, 503)
  t.match(shed.headers['content-type'], /^application\/problem\+json/)
  t.equal(shed.headers['retry-after'], '7')
  t.match(shed.json(), { status: 503, code: 'overloaded' })
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'liveness is not shed')
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200, 'readiness is not shed: a busy pod is not an unready one')
  t.equal((await app.inject({ url: '/metrics' })).statusCode, 200, 'metrics are not shed')
})

t.test('a lagging event loop sheds requests until it recovers', async (t) => {
  const app = await appWith({ maxEventLoopDelayMs: 30, maxHeapUsedBytes: 0, sampleIntervalMs: 50 })
  t.teardown(() => app.close())
  // The first samples may come before the delay histogram has any (under-pressure counts that as lag).
  await until(() => !app.isUnderPressure(), 'settled after start')
  t.equal((await app.inject({ url: '/work' })).statusCode, 200, 'served while the loop is idle')
  // Blocks of 100 ms keep the mean delay of a sample far above 30 ms.
  const block = () => {
    const end = Date.now() + 100
    while (Date.now() < end);
  }
  await until(() => app.isUnderPressure(), 'event-loop lag detected', 10_000, block)
  const shed = await app.inject({ url: '/work' })
  t.equal(shed.statusCode, 503)
  t.equal(shed.headers['retry-after'], '5', 'the default Retry-After')
  t.equal(shed.json().code, 'overloaded')
  await until(() => !app.isUnderPressure(), 'recovered')
  t.equal((await app.inject({ url: '/work' })).statusCode, 200, 'served again once the loop keeps up')
})

t.test('/readyz answers at once while every pooled connection is taken (its own connection)', async (t) => {
  const { url, kind } = await createTestDatabase(t)
  if (kind !== 'postgres') {
    t.skip('a pool needs PostgreSQL', () => {})
    return
  }
  const handle = await createDb(url, { poolSize: 2 })
  t.teardown(() => handle.destroy())
  // Saturated traffic: two requests hold both connections of the pool.
  let release = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  const holders = [0, 1].map(() => handle.db.connection().execute(async () => { await released }))
  t.teardown(async () => {
    release()
    await Promise.all(holders)
  })
  const ownConnection = await appWith({}, readinessChecks({ db: handle.db, databasePing: handle.ping }))
  t.teardown(() => ownConnection.close())
  const startedAt = Date.now()
  const ready = await ownConnection.inject({ url: '/readyz' })
  const tookMs = Date.now() - startedAt
  t.equal(ready.statusCode, 200, ready.body)
  t.ok(tookMs < 1_000, `answered in ${tookMs} ms`)

  // The same check through the pool waits for a connection until it times out.
  const throughPool = await appWith({}, readinessChecks({ db: handle.db }))
  t.teardown(() => throughPool.close())
  const queued = await throughPool.inject({ url: '/readyz' })
  t.equal(queued.statusCode, 503, 'through the pool it is marked unready')
  t.match(queued.json(), { code: 'not_ready', checks: { database: 'down' } })
})
