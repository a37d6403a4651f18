import t from 'tap'
import { sql } from 'kysely'
import type { Room } from '@chat/contracts'
import { multipartFile } from '@chat/service-kit/testing'
import { addParticipants, insertDirectRoom } from '../src/rooms.repository.js'
import { build, waitFor, type Harness, type TestUser } from './helper.js'

function openDirect(harness: Harness, caller: TestUser, displayName: unknown) {
  return harness.app.inject({ method: 'POST', url: '/direct/', headers: caller.headers, payload: { display_name: displayName } })
}

t.test('a direct room: 201 once, then 200 with the same room whichever of the two asks; named after the other', async (t) => {
  const harness = await build(t)
  const { app, events, user } = harness
  const ada = await user('Ada')
  const bob = await user('Bob Stone')

  const created = await openDirect(harness, ada, 'bob stone')
  t.equal(created.statusCode, 201, created.body)
  const room = created.json<Room>()
  t.equal(room.kind, 'direct')
  t.equal(room.name, 'Bob Stone', "Ada sees Bob's name")
  t.same(room.participants.map((participant) => [participant.display_name, participant.role]).sort(), [['Ada', 'member'], ['Bob Stone', 'member']], 'two members, no owner')
  t.equal(room.created_by.id, ada.id)
  t.equal(room.last_seq, 1, 'adding Bob was event 1')
  await waitFor(() => events.length === 1)
  t.match(events[0], { type: 'participants.added', room_id: room.id, seq: 1, users: [{ id: bob.id, display_name: 'Bob Stone' }] })

  const again = await openDirect(harness, ada, 'Bob Stone')
  t.equal(again.statusCode, 200, 'it exists')
  t.equal(again.json<Room>().id, room.id)
  const fromBob = await openDirect(harness, bob, 'ADA')
  t.equal(fromBob.statusCode, 200, 'Bob gets the same room')
  t.match(fromBob.json<Room>(), { id: room.id, kind: 'direct', name: 'Ada', last_seq: 1 }, "Bob sees Ada's name")
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(events.length, 1, 'finding the room writes no event')

  const one = await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/`, headers: bob.headers })
  t.match(one.json(), { kind: 'direct', name: 'Ada' })
})

t.test('GET /chatrooms/ lists group and direct rooms, each named for the caller', async (t) => {
  const harness = await build(t)
  const { app, user, createRoom } = harness
  const ada = await user('Ada')
  const bob = await user('Bob')
  const cy = await user('Cy')
  const group = await createRoom(ada, 'Tea', ['Bob'])
  const withBob = (await openDirect(harness, ada, 'Bob')).json<Room>()
  const withCy = (await openDirect(harness, cy, 'Ada')).json<Room>()
  const list = async (caller: TestUser) =>
    (await app.inject({ method: 'GET', url: '/chatrooms/', headers: caller.headers })).json<Room[]>().map((room) => [room.id, room.kind, room.name])
  t.same(await list(ada), [[withCy.id, 'direct', 'Cy'], [withBob.id, 'direct', 'Bob'], [group.id, 'group', 'Tea']], 'most recent activity first')
  t.same(await list(bob), [[withBob.id, 'direct', 'Ada'], [group.id, 'group', 'Tea']])
  t.same(await list(cy), [[withCy.id, 'direct', 'Ada']])
})

t.test('POST /direct/ refuses bad input with problem details', async (t) => {
  const harness = await build(t)
  const { app, db, user } = harness
  const ada = await user('Ada')
  const unknown = await openDirect(harness, ada, 'Nobody')
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json(), { code: 'users_not_found', not_found: ['Nobody'] })
  const self = await openDirect(harness, ada, 'ada')
  t.equal(self.statusCode, 400)
  t.match(self.json(), { code: 'validation_failed', errors: [{ path: '/display_name' }] })
  for (const [label, payload] of [
    ['no name', {}],
    ['empty name', { display_name: '' }],
    ['a name too long', { display_name: 'x'.repeat(65) }],
    ['not a string', { display_name: 7 }],
    ['an unknown member', { display_name: 'Bob', topic: 'x' }],
    ['NUL', { display_name: 'B\u0000b' }]
  ] as const) {
    const response = await app.inject({ method: 'POST', url: '/direct', headers: ada.headers, payload })
    t.equal(response.statusCode, 400, label)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', `${label}: problem details`)
  }
  t.equal((await app.inject({ method: 'POST', url: '/direct/', payload: { display_name: 'Ada' } })).statusCode, 401)
  t.equal((await db.selectFrom('rooms').select('id').execute()).length, 0, 'nothing was created')
})

t.test('a direct room keeps its two participants, its name and no avatar: 409 direct_room, after 404 and 403', async (t) => {
  const harness = await build(t)
  const { app, events, user } = harness
  const ada = await user('Ada')
  await user('Bob')
  const eve = await user('Eve')
  const room = (await openDirect(harness, ada, 'Bob')).json<Room>()
  const bobId = room.participants.find((participant) => participant.display_name === 'Bob')?.id
  t.same(room.participants.map((participant) => participant.role), ['member', 'member'], 'no roles in a direct room')
  await waitFor(() => events.length === 1)
  const png = multipartFile('avatar', 'a.png', 'image/png', Buffer.from('not even a png'))
  const attempts = (caller: TestUser) => [
    ['add_user', app.inject({ method: 'POST', url: `/chatrooms/${room.id}/add_user/`, headers: caller.headers, payload: { user_display_names: ['Eve'] } })],
    ['leave', app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/participants/me/`, headers: caller.headers })],
    ['rename', app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/`, headers: caller.headers, payload: { name: 'Ours' } })],
    ['set avatar', app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/avatar/`, headers: { ...caller.headers, ...png.headers }, payload: png.payload })],
    ['remove avatar', app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/avatar/`, headers: caller.headers })],
    ['role', app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/participants/${bobId}/`, headers: caller.headers, payload: { role: 'admin' } })],
    ['remove', app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/participants/${bobId}/`, headers: caller.headers })],
    ['members_can_add', app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/`, headers: caller.headers, payload: { members_can_add: false } })]
  ] as const
  for (const [label, attempt] of attempts(ada)) {
    const response = await attempt
    t.equal(response.statusCode, 409, label)
    t.equal(response.json().code, 'direct_room', label)
  }
  for (const [label, attempt] of attempts(eve)) {
    const response = await attempt
    t.equal(response.statusCode, 403, `an outsider's ${label}`)
    t.equal(response.json().code, 'not_a_member', `an outsider's ${label}`)
  }
  const after = (await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/`, headers: ada.headers })).json<Room>()
  t.same(after.participants.map((participant) => participant.display_name).sort(), ['Ada', 'Bob'])
  t.match(after, { name: 'Bob', avatar_url: null, last_seq: 1 })
  t.equal(events.length, 1, 'no event')
})

t.test('both users asking at the same moment get one room (real PostgreSQL)', async (t) => {
  const harness = await build(t)
  const { db, events, user } = harness
  const pairs = await Promise.all(Array.from({ length: 12 }, async (_, index) => [await user(`Left ${index}`), await user(`Right ${index}`)] as const))
  const answers = await Promise.all(
    pairs.flatMap(([left, right]) => [openDirect(harness, left, right.display_name), openDirect(harness, right, left.display_name)])
  )
  for (let index = 0; index < pairs.length; index++) {
    const [first, second] = [answers[2 * index]!, answers[2 * index + 1]!]
    t.same([first.statusCode, second.statusCode].sort(), [200, 201], `pair ${index}: one created, one found`)
    t.equal(first.json<Room>().id, second.json<Room>().id, `pair ${index}: the same room`)
  }
  const rooms = await db.selectFrom('rooms').select(['id', 'last_seq']).execute()
  t.equal(rooms.length, pairs.length, 'one room per pair')
  t.ok(rooms.every((room) => room.last_seq === 1), 'each with its one event')
  await waitFor(() => events.length === pairs.length)
})

t.test('the request that loses the race finds the winner\'s room, without an event of its own', async (t) => {
  const harness = await build(t)
  const { db, events, user } = harness
  const ada = await user('Ada')
  const bob = await user('Bob')
  // Ada's request, held open after its insert: Bob's must wait for it on the unique pair, then find its room.
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  let inserted!: (roomId: string) => void
  const insertedRoom = new Promise<string>((resolve) => (inserted = resolve))
  const held = db.transaction().execute(async (trx) => {
    const roomId = (await insertDirectRoom(trx, ada.id, bob.id))!
    await addParticipants(trx, roomId, [{ id: ada.id, role: 'member' }, { id: bob.id, role: 'member' }])
    inserted(roomId)
    await released
    return roomId
  })
  const roomId = await insertedRoom
  const bobs = openDirect(harness, bob, 'Ada')
  await waitFor(async () => {
    const { rows } = await sql<{ waiting: number }>`
      select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db)
    return rows[0]!.waiting > 0
  }, 20_000)
  release()
  await held
  const response = await bobs
  t.equal(response.statusCode, 200, 'found, not created')
  t.equal(response.json<Room>().id, roomId)
  t.equal((await db.selectFrom('rooms').select('id').execute()).length, 1)
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(events.length, 0, 'the loser publishes nothing')
})
