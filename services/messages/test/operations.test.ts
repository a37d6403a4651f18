import t from 'tap'
import { createInProcessBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { createTokenVerifier, generateSigningKey, staticKeyResolver } from '@chat/service-kit'
import { buildApp } from '../src/app.js'
import { bearer, build } from './helper.js'

t.test('health, readiness, docs and operation ids', async (t) => {
  const { app } = await build(t)
  t.same((await app.inject('/healthz')).json(), { status: 'ok' })
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.same(ready.json().checks, { database: 'ok', bus: 'ok' })
  const document = (await app.inject('/docs/json')).json()
  const operationIds = Object.values(document.paths as Record<string, Record<string, { operationId?: string }>>)
    .flatMap((methods) => Object.values(methods).map((operation) => operation.operationId))
  for (const id of ['listMessages', 'sendMessage', 'editMessage', 'deleteMessage']) t.ok(operationIds.includes(id), id)
})

t.test('readiness fails when the database is unreachable; the app builds and closes without a publisher given', async (t) => {
  const unreachable = await createDb('postgres://postgres@127.0.0.1:9/none')
  t.teardown(() => unreachable.destroy())
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  const verifier = createTokenVerifier(staticKeyResolver([generateSigningKey()]))
  const app = await buildApp({ db: unreachable.db, bus, verifier }, { logger: false })
  const response = await app.inject('/readyz')
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'not_ready')
  await app.close()
  await t.rejects(bus.request('svc.messages.send', Buffer.from('{}'), { timeoutMs: 200 }), { code: 'bus_no_responders' }, 'closing unsubscribes the responder')
})

t.test('the per-user rate limit applies to messages', async (t) => {
  const { createUser, createRoom, send } = await build(t, { userRps: 1 })
  const ada = await createUser()
  const roomId = await createRoom(ada)
  const statuses: number[] = []
  for (let index = 0; index < 4; index++) statuses.push((await send(ada, roomId, { text: `m${index}` })).statusCode)
  t.same(statuses, [201, 201, 429, 429])
})

t.test('a body that is not JSON is problem details, not a crash', async (t) => {
  const { app, createUser, createRoom } = await build(t)
  const ada = await createUser()
  const roomId = await createRoom(ada)
  const malformed = await app.inject({ method: 'POST', url: `/messages/${roomId}/`, headers: { ...bearer(ada), 'content-type': 'application/json' }, payload: '{"text":' })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().code, 'invalid_json')
  const text = await app.inject({ method: 'POST', url: `/messages/${roomId}/`, headers: { ...bearer(ada), 'content-type': 'text/plain' }, payload: 'hi' })
  t.equal(text.statusCode, 415)
  const oversize = await app.inject({ method: 'POST', url: `/messages/${roomId}/`, headers: bearer(ada), payload: { text: 'x'.repeat(70 * 1024) } })
  t.equal(oversize.statusCode, 413)
})
