import t from 'tap'
import { createDb } from '@chat/db'
import { createTokenSigner, generateSigningKey } from '@chat/service-kit'
import { buildApp } from '../src/app.js'
import { bearer, build } from './helper.js'

t.test('health, readiness, metrics, docs and unknown routes', async (t) => {
  const { app } = await build(t)
  t.same((await app.inject('/healthz')).json(), { status: 'ok' })
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.same(ready.json().checks, { database: 'ok' })
  await app.inject('/healthz')
  const metrics = await app.inject('/metrics')
  t.equal(metrics.statusCode, 200)
  t.match(metrics.body, /http_request_duration_seconds_bucket\{.*route="\/healthz"/)
  const openapi = await app.inject('/docs/json')
  t.equal(openapi.statusCode, 200)
  const document = openapi.json()
  const operationIds = Object.values(document.paths as Record<string, Record<string, { operationId?: string }>>)
    .flatMap((methods) => Object.values(methods).map((operation) => operation.operationId))
  for (const id of ['register', 'login', 'refresh', 'logout', 'getMe', 'searchUsers', 'getJwks']) t.ok(operationIds.includes(id), id)
  const ui = await app.inject('/docs')
  t.ok([200, 302].includes(ui.statusCode), 'docs UI is served')
  const missing = await app.inject('/nowhere')
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'route_not_found')
  t.equal(missing.headers['content-type'], 'application/problem+json; charset=utf-8')
})

t.test('request ids: taken from x-request-id when sane, otherwise made', async (t) => {
  const { app } = await build(t)
  const echoed = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } })
  t.equal(echoed.headers['x-request-id'], 'abc-123')
  const replaced = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\nwith newline' } })
  t.match(replaced.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

t.test('readiness fails when the database is unreachable', async (t) => {
  const unreachable = await createDb('postgres://postgres@127.0.0.1:9/none')
  t.teardown(() => unreachable.destroy())
  const app = await buildApp({ db: unreachable.db, signer: createTokenSigner(generateSigningKey(), 900) }, { logger: false })
  t.teardown(() => app.close())
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'Ada', password: 'long enough' } })
  t.equal(login.statusCode, 503, 'a database that is down is a 503, not a 500')
  t.equal(login.json().code, 'service_unavailable')
  t.equal(login.headers['retry-after'], '5')
  const response = await app.inject('/readyz')
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'not_ready')
  t.equal(response.headers['retry-after'], '5')
})

t.test('per-user rate limit answers 429 with Retry-After as problem details', async (t) => {
  const { app, register } = await build(t, { userRps: 2 })
  const session = await register('Busy')
  const statuses: number[] = []
  let limited
  for (let index = 0; index < 6; index++) {
    const response = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(session) })
    statuses.push(response.statusCode)
    if (response.statusCode === 429) limited = response
  }
  t.same(statuses.slice(0, 4), [200, 200, 200, 200], 'a burst of twice the rate passes')
  t.ok(limited, 'then requests are refused')
  t.equal(limited?.json().code, 'rate_limited')
  t.ok(Number(limited?.headers['retry-after']) >= 1)
  const other = await register('Calm')
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: bearer(other) })).statusCode, 200, 'other users keep their budget')
})
