import t from 'tap'
import { createInProcessBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { createTestDatabase } from '@chat/db/testing'
import { createRoomEventPublisher } from '@chat/room-events'
import { createServiceApp, createTokenSigner, createTokenVerifier, generateSigningKey, readinessChecks, staticKeyResolver } from '@chat/service-kit'
import { buildApp } from '../src/app.js'
import { loadReactionList, reactionsPlugin } from '../src/index.js'
import { allowedNames, build } from './helper.js'

interface Operation {
  operationId?: string
  parameters?: Array<{ in: string; name: string; schema: { format?: string } }>
  requestBody?: { content: Record<string, { schema: { properties: Record<string, { type?: string; enum?: string[] }>; additionalProperties?: boolean } }> }
  responses?: Record<string, unknown>
  security?: unknown[]
}

t.test('health, readiness, and an OpenAPI document with operation ids, schemas and the enum of the list', async (t) => {
  const { app } = await build(t)
  t.same((await app.inject('/healthz')).json(), { status: 'ok' })
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.same(ready.json().checks, { database: 'ok', bus: 'ok' })
  const document = (await app.inject('/docs/json')).json<{ paths: Record<string, Record<string, Operation>> }>()
  const reaction = document.paths['/messages/{message_id}/reaction']
  t.same(Object.keys(reaction ?? {}).sort(), ['delete', 'get', 'post'])
  t.equal(reaction?.get?.operationId, 'listReactions')
  t.equal(reaction?.post?.operationId, 'setReaction')
  t.equal(reaction?.delete?.operationId, 'removeReaction')
  t.equal(document.paths['/emoji']?.get?.operationId, 'listEmoji')
  t.notOk(document.paths['/emoji']?.get?.security, 'GET /emoji/ needs no token')
  t.ok(reaction?.post?.security, 'the reaction routes do')
  const body = reaction?.post?.requestBody?.content['application/json']?.schema
  t.equal(body?.properties.reaction?.type, 'string')
  t.same(body?.properties.reaction?.enum, allowedNames, 'the names of reaction_list.json, in its order')
  t.equal(body?.additionalProperties, false)
  t.same(Object.keys(reaction?.post?.responses ?? {}).sort(), ['200', '201', '400', '401', '403', '404', '413', '415', '429'])
  t.same(Object.keys(reaction?.delete?.responses ?? {}).sort(), ['204', '400', '401', '403', '404', '429'])
  t.same(reaction?.get?.parameters?.map((parameter) => [parameter.in, parameter.name, parameter.schema.format]), [['path', 'message_id', 'uuid']])
  t.same(Object.keys(document.paths['/emoji']?.get?.responses ?? {}).sort(), ['200', '304'])
})

t.test('readiness fails when the database is unreachable; the app builds with the shipped list and closes without a publisher given', async (t) => {
  const unreachable = await createDb('postgres://postgres@127.0.0.1:9/none')
  t.teardown(() => unreachable.destroy())
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  const verifier = createTokenVerifier(staticKeyResolver([generateSigningKey()]))
  const app = await buildApp({ db: unreachable.db, bus, verifier }, { logger: false })
  const response = await app.inject('/readyz')
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'not_ready')
  t.same((await app.inject('/emoji/')).json().map((entry: { name: string }) => entry.name), allowedNames, 'buildApp loads reaction_list.json itself')
  await app.close()
})

t.test('a database that is down is a 503 with Retry-After, not a 500', async (t) => {
  const unreachable = await createDb('postgres://postgres@127.0.0.1:9/none')
  t.teardown(() => unreachable.destroy())
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  const key = generateSigningKey()
  const token = createTokenSigner(key, 60).sign({ id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f', displayName: 'Ada' }).token
  const app = await buildApp({ db: unreachable.db, bus, verifier: createTokenVerifier(staticKeyResolver([key])) }, { logger: false })
  t.teardown(() => app.close())
  const response = await app.inject({
    method: 'POST',
    url: '/messages/0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f/reaction/',
    headers: { authorization: `Bearer ${token}` },
    payload: { reaction: 'like' }
  })
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'service_unavailable')
  t.equal(response.headers['retry-after'], '5')
})

t.test('the per-user rate limit applies to reactions', async (t) => {
  const { createUser, createRoom, createMessage, react } = await build(t, { userRps: 1 })
  const ada = await createUser()
  const roomId = await createRoom(ada)
  const messageId = await createMessage(ada, roomId)
  const statuses: number[] = []
  for (const reaction of ['like', 'love', 'wow', 'sad']) statuses.push((await react(ada, messageId, { reaction })).statusCode)
  t.same(statuses, [201, 200, 429, 429])
})

t.test('the plugin registers on a shared app as the standalone process does, next to the messages routes\' shapes', async (t) => {
  const { db } = await createTestDatabase(t)
  const bus = createInProcessBus()
  const key = generateSigningKey()
  const app = await createServiceApp({ title: 'shared', verifier: createTokenVerifier(staticKeyResolver([key])), readiness: readinessChecks({ db, bus }), logger: false })
  const publisher = createRoomEventPublisher({ db, bus, logger: app.log })
  t.teardown(async () => {
    await app.close()
    await publisher.close()
    await bus.close()
  })
  // The routes of @chat/messages that share the /messages/ prefix, with their own parameter names.
  app.get('/messages/:room_id', async () => 'list')
  app.delete('/messages/:room_id/:message_id', async () => 'delete message')
  await app.register(reactionsPlugin, { db, publisher, reactionList: loadReactionList() })
  await app.ready()
  const messageId = '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f'
  t.equal((await app.inject({ method: 'DELETE', url: `/messages/${messageId}/other/` })).body, 'delete message')
  t.equal((await app.inject({ method: 'GET', url: `/messages/${messageId}/` })).body, 'list')
  const token = createTokenSigner(key, 60).sign({ id: messageId, displayName: 'Ada' }).token
  const reaction = await app.inject({ method: 'DELETE', url: `/messages/${messageId}/reaction/`, headers: { authorization: `Bearer ${token}` } })
  t.equal(reaction.json().code, 'message_not_found', 'DELETE …/reaction/ reaches the reactions plugin')
  t.equal((await app.inject('/emoji/')).statusCode, 200)
})
