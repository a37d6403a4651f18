// GET /users/?ids=: users with their presence, as the gateways publish it on
// NATS (chat.presence.update), to the caller and those who share a room with them.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { connectNatsBus } from '@chat/bus'
import { subjects, type UserPresence } from '@chat/contracts'
import { PresenceTracker } from '@chat/service-kit'
import { silentLogger } from '@chat/service-kit/testing'
import { createTestDatabase } from '@chat/db/testing'
import { createTokenSigner, generateSigningKey } from '@chat/service-kit'
import type { Session } from '@chat/contracts'
import { buildApp } from '../src/app.js'
import { bearer } from './helper.js'

const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

t.test('GET /users/?ids= answers online and last_seen_at from the gateways\' presence on NATS', async (t) => {
  const { db } = await createTestDatabase(t)
  const bus = await connectNatsBus({ url: natsUrl, name: 'identity-presence-test', logger: silentLogger })
  t.teardown(() => bus.close())
  const presence = new PresenceTracker(bus, { sweepMs: 100 })
  await presence.start()
  t.teardown(() => presence.close())
  const app = await buildApp({ db, signer: createTokenSigner(generateSigningKey(), 900), presence }, { logger: false, userRps: 0 })
  t.teardown(() => app.close())
  const register = async (name: string): Promise<Session> =>
    (await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: name, password: 'long enough' } })).json<Session>()
  const [ada, bob, cat] = [await register(`ada-${randomUUID().slice(0, 8)}`), await register(`bob-${randomUUID().slice(0, 8)}`), await register(`cat-${randomUUID().slice(0, 8)}`)]
  const room = await db.insertInto('rooms').values({ name: 'pair', created_by: ada.user.id }).returning('id').executeTakeFirstOrThrow()
  await db
    .insertInto('room_participants')
    .values([
      { room_id: room.id, user_id: ada.user.id, role: 'owner' },
      { room_id: room.id, user_id: bob.user.id, role: 'member' }
    ])
    .execute()

  const lookUp = async (ids: string[]): Promise<UserPresence[]> => {
    const response = await app.inject({ method: 'GET', url: `/users/?ids=${ids.join(',')}`, headers: bearer(ada) })
    t.equal(response.statusCode, 200, response.body)
    return response.json<UserPresence[]>()
  }

  // Asked in this order, bob twice, cat (no shared room) and an unknown id: ada's view.
  t.same(
    (await lookUp([bob.user.id, cat.user.id, ada.user.id, bob.user.id, randomUUID()])).map((user) => [user.id, user.online, user.last_seen_at]),
    [
      [bob.user.id, false, null],
      [ada.user.id, false, null]
    ],
    'those who share a room with the caller, and the caller, each once; never seen yet'
  )

  const gateway = randomUUID()
  await bus.publish(subjects.presenceUpdate(), Buffer.from(JSON.stringify({ gateway, ttl_ms: 60_000, online: [bob.user.id, cat.user.id] })))
  const deadline = Date.now() + 10_000
  let bobNow: UserPresence | undefined
  while (!(bobNow = (await lookUp([bob.user.id]))[0])?.online && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(bobNow?.online, true, 'online once a gateway names them')
  t.ok(bobNow?.last_seen_at && Math.abs(Date.now() - Date.parse(bobNow.last_seen_at)) < 5_000, 'last_seen_at is now while online')
  t.same(await lookUp([cat.user.id]), [], 'online or not, a stranger stays out of view')

  const seenAt = new Date('2026-01-02T03:04:05.000Z')
  await db.updateTable('users').set({ last_seen_at: seenAt }).where('id', '=', bob.user.id).execute()
  await bus.publish(subjects.presenceUpdate(), Buffer.from(JSON.stringify({ gateway, ttl_ms: 60_000, offline: [bob.user.id] })))
  while ((await lookUp([bob.user.id]))[0]?.online && Date.now() < deadline + 10_000) await new Promise((resolve) => setTimeout(resolve, 50))
  t.same((await lookUp([bob.user.id]))[0], { ...bob.user, online: false, last_seen_at: seenAt.toISOString() }, 'offline: when they were last seen')

  for (const [url, why] of [
    ['/users/?ids=not-a-uuid', 'not an id'],
    [`/users/?ids=${Array.from({ length: 101 }, () => randomUUID()).join(',')}`, 'more than 100'],
    [`/users/?ids=${bob.user.id}&search=b`, 'ids with search'],
    ['/users/?ids=', 'empty']
  ] as const) {
    const response = await app.inject({ method: 'GET', url, headers: bearer(ada) })
    t.equal(response.statusCode, 400, why)
    t.equal(response.json<{ code: string }>().code, 'validation_failed', why)
  }
  t.equal((await app.inject({ method: 'GET', url: `/users/?ids=${bob.user.id}` })).statusCode, 401, 'authenticated only')
})
