import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTokenSigner, generateSigningKey, loadConfig } from '@chat/service-kit'
import { checkStopAfterWrite, postJson, runToExit, startServiceOnTestDatabase } from '@chat/service-kit/testing'
import { ReactionsConfig } from '../src/config.js'
import { loadReactionList } from '../src/reaction-list.js'

const mainFile = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

t.test('the configuration: port 3004 by default', async (t) => {
  const config = loadConfig(ReactionsConfig, { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/chat', JWT_PUBLIC_KEY: 'x' })
  t.equal(config.PORT, 3004)
  t.equal(config.NATS_URL, 'nats://127.0.0.1:4222')
})

t.test('main.ts: runs from dist/ against PostgreSQL and NATS, serves the list and reactions, stops on SIGTERM', async (t) => {
  const key = generateSigningKey()
  const started = await startServiceOnTestDatabase(t, mainFile, (url) => ({ DATABASE_URL: url, NATS_URL: natsUrl, JWT_PUBLIC_KEY: key.publicKeyPem }))
  if (!started) return
  const { service, db } = started
  const ready = await fetch(`${service.baseUrl}/readyz`)
  t.equal(ready.status, 200, service.output())
  const emoji = await fetch(`${service.baseUrl}/emoji/`)
  t.equal(emoji.status, 200)
  t.same(await emoji.json(), loadReactionList().entries, 'dist/main.js found assets/reaction_list.json')
  t.equal(emoji.headers.get('etag'), loadReactionList().etag)

  const user = await db.insertInto('users').values({ display_name: 'Ada', display_name_key: 'ada', password_hash: 'x' }).returning('id').executeTakeFirstOrThrow()
  const room = await db.insertInto('rooms').values({ name: 'From main', created_by: user.id, last_seq: 1 }).returning('id').executeTakeFirstOrThrow()
  await db.insertInto('room_participants').values({ room_id: room.id, user_id: user.id, role: 'owner' }).execute()
  const message = await db
    .insertInto('messages')
    .values({ id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f', room_id: room.id, seq: 1, sender_id: user.id, text: 'hi' })
    .returning('id')
    .executeTakeFirstOrThrow()
  const token = createTokenSigner(key, 60).sign({ id: user.id, displayName: 'Ada' }).token
  const reacted = await postJson(`${service.baseUrl}/messages/${message.id}/reaction/`, token, { reaction: 'love' })
  t.equal(reacted.status, 201)
  await checkStopAfterWrite(t, started, room.id, [[2, 'reaction.updated']])
})

t.test('main.ts: a bad variable is one line naming it', async (t) => {
  const result = await runToExit(mainFile, { DATABASE_URL: 'mysql://nope', JWT_PUBLIC_KEY: 'x' })
  t.equal(result.code, 1)
  t.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
  t.match(result.stderr, /^Invalid configuration: DATABASE_URL /)
})
