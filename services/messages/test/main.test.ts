import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTokenSigner, generateSigningKey, loadConfig } from '@chat/service-kit'
import { checkStopAfterWrite, postJson, runToExit, startServiceOnTestDatabase } from '@chat/service-kit/testing'
import { MessagesConfig } from '../src/config.js'

const mainFile = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

t.test('the configuration: port 3003 by default, one send batch in flight unless told up to 8', async (t) => {
  const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/chat', JWT_PUBLIC_KEY: 'x' }
  const config = loadConfig(MessagesConfig, base)
  t.equal(config.PORT, 3003)
  t.equal(config.NATS_URL, 'nats://127.0.0.1:4222')
  t.equal(config.SEND_BATCHES_IN_FLIGHT, 1)
  t.equal(loadConfig(MessagesConfig, { ...base, SEND_BATCHES_IN_FLIGHT: '2' }).SEND_BATCHES_IN_FLIGHT, 2)
  t.throws(() => loadConfig(MessagesConfig, { ...base, SEND_BATCHES_IN_FLIGHT: '0' }), /SEND_BATCHES_IN_FLIGHT/)
  t.throws(() => loadConfig(MessagesConfig, { ...base, SEND_BATCHES_IN_FLIGHT: '9' }), /SEND_BATCHES_IN_FLIGHT/)
})

t.test('main.ts: runs from dist/ against PostgreSQL and NATS, stores and publishes a message, stops on SIGTERM', async (t) => {
  const key = generateSigningKey()
  const started = await startServiceOnTestDatabase(t, mainFile, (url) => ({ DATABASE_URL: url, NATS_URL: natsUrl, JWT_PUBLIC_KEY: key.publicKeyPem }))
  if (!started) return
  const { service, db } = started
  const ready = await fetch(`${service.baseUrl}/readyz`)
  t.equal(ready.status, 200, service.output())
  const user = await db.insertInto('users').values({ display_name: 'Ada', display_name_key: 'ada', password_hash: 'x' }).returning('id').executeTakeFirstOrThrow()
  const room = await db.insertInto('rooms').values({ name: 'From main', created_by: user.id }).returning('id').executeTakeFirstOrThrow()
  await db.insertInto('room_participants').values({ room_id: room.id, user_id: user.id, role: 'owner' }).execute()
  const token = createTokenSigner(key, 60).sign({ id: user.id, displayName: 'Ada' }).token
  const sent = await postJson(`${service.baseUrl}/messages/${room.id}/`, token, { text: 'hello from main' })
  t.equal(sent.status, 201)
  // The app, not main.ts, owns the publisher: its last marks must still get out.
  await checkStopAfterWrite(t, started, room.id, [[1, 'message.created']])
})

t.test('main.ts: a bad variable is one line naming it', async (t) => {
  const result = await runToExit(mainFile, { DATABASE_URL: 'mysql://nope', JWT_PUBLIC_KEY: 'x' })
  t.equal(result.code, 1)
  t.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
  t.match(result.stderr, /^Invalid configuration: DATABASE_URL /)
})
