import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTokenSigner, generateSigningKey } from '@chat/service-kit'
import { checkStopAfterWrite, postJson, runToExit, startServiceOnTestDatabase } from '@chat/service-kit/testing'

const mainFile = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

t.test('main.ts: runs against PostgreSQL and NATS, serves, stops on SIGTERM', async (t) => {
  const key = generateSigningKey()
  const started = await startServiceOnTestDatabase(t, mainFile, (url) => ({ DATABASE_URL: url, NATS_URL: natsUrl, JWT_PUBLIC_KEY: key.publicKeyPem }))
  if (!started) return
  const { service, db } = started
  const ready = await fetch(`${service.baseUrl}/readyz`)
  t.equal(ready.status, 200, service.output())
  const user = await db.insertInto('users').values({ display_name: 'Ada', display_name_key: 'ada', password_hash: 'x' }).returning('id').executeTakeFirstOrThrow()
  const token = createTokenSigner(key, 60).sign({ id: user.id, displayName: 'Ada' }).token
  const created = await postJson(`${service.baseUrl}/chatrooms/`, token, { name: 'From main' })
  t.equal(created.status, 201)
  const roomId = ((await created.json()) as { id: string }).id
  await db.insertInto('users').values({ display_name: 'Bob', display_name_key: 'bob', password_hash: 'x' }).execute()
  const added = await postJson(`${service.baseUrl}/chatrooms/${roomId}/add_user/`, token, { user_display_names: ['Bob'] })
  t.equal(added.status, 200)
  t.equal((await db.selectFrom('room_events').select('seq').execute()).length, 1)
  await checkStopAfterWrite(t, started, roomId, [[1, 'participants.added']])
})

t.test('main.ts: a public key that is not one is one line naming it', async (t) => {
  const result = await runToExit(mainFile, { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' })
  t.equal(result.code, 1)
  t.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
  t.match(result.stderr, /^Invalid configuration: JWT_PUBLIC_KEY /)
})

t.test('main.ts: no way to verify tokens is one line naming the variables', async (t) => {
  const result = await runToExit(mainFile, { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', JWT_PUBLIC_KEY: undefined, JWKS_URL: undefined })
  t.equal(result.code, 1)
  t.equal(result.stderr.trim().split('\n').length, 1)
  t.match(result.stderr, /JWT_PUBLIC_KEY.*JWKS_URL/)
})
