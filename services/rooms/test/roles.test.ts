import t, { type Test } from 'tap'
import { sql } from 'kysely'
import type { Room } from '@chat/contracts'
import { multipartFile } from '@chat/service-kit/testing'
import { build, unknownRoomId, waitFor, type TestUser } from './helper.js'

function roles(room: Room): Array<[string, string]> {
  return room.participants.map((participant) => [participant.display_name, participant.role])
}

async function crew(t: Tap) {
  const harness = await build(t)
  const [ada, bob, cat, dan] = [await harness.user('Ada'), await harness.user('Bob'), await harness.user('Cat'), await harness.user('Dan')]
  const room = await harness.createRoom(ada, 'Crew', ['Bob', 'Cat', 'Dan'])
  const setRole = (caller: TestUser, target: TestUser | string, role: unknown, roomId = room.id) =>
    harness.app.inject({ method: 'PATCH', url: `/chatrooms/${roomId}/participants/${typeof target === 'string' ? target : target.id}/`, headers: caller.headers, payload: { role } })
  const remove = (caller: TestUser, target: TestUser | string, roomId = room.id) =>
    harness.app.inject({ method: 'DELETE', url: `/chatrooms/${roomId}/participants/${typeof target === 'string' ? target : target.id}/`, headers: caller.headers })
  const get = async (caller: TestUser = ada) => (await harness.app.inject({ method: 'GET', url: `/chatrooms/${room.id}/`, headers: caller.headers })).json<Room>()
  await waitFor(() => harness.events.length === 1)
  return { ...harness, ada, bob, cat, dan, room, setRole, remove, get }
}
type Tap = Parameters<typeof build>[0]

function problem(t: Test, response: { statusCode: number; json: () => { code: string } }, status: number, code: string, label: string) {
  t.equal(response.statusCode, status, label)
  t.equal(response.json().code, code, label)
}

t.test('roles: the creator owns the room; the owner makes admins and back, each change a participants.updated event', async (t) => {
  const { ada, bob, cat, room, setRole, events } = await crew(t)
  t.same(roles(room), [['Ada', 'owner'], ['Bob', 'member'], ['Cat', 'member'], ['Dan', 'member']])
  const promoted = await setRole(ada, bob, 'admin')
  t.equal(promoted.statusCode, 200)
  t.same(roles(promoted.json<Room>()).slice(0, 2), [['Ada', 'owner'], ['Bob', 'admin']])
  t.equal(promoted.json<Room>().last_seq, 2)
  await waitFor(() => events.length === 2)
  t.match(events[1], { type: 'participants.updated', room_id: room.id, seq: 2, participants: [{ id: bob.id, display_name: 'Bob', role: 'admin' }] })
  t.ok(typeof (events[1]?.participants as Array<{ joined_at: string }>)[0]?.joined_at === 'string', 'the participant as the Room lists it')

  const same = await setRole(ada, bob, 'admin')
  t.equal(same.statusCode, 200)
  t.equal(same.json<Room>().last_seq, 2, 'no change, no event')

  problem(t, await setRole(bob, cat, 'admin'), 403, 'owner_required', 'an admin cannot make admins')
  problem(t, await setRole(cat, cat, 'admin'), 403, 'owner_required', 'a member cannot promote themselves')
  problem(t, await setRole(ada, ada, 'member'), 409, 'owner_role', 'the owner stays owner')
  problem(t, await setRole(ada, ada, 'owner'), 400, 'validation_failed', 'ownership is not given by a PATCH')
  problem(t, await setRole(ada, unknownRoomId, 'admin'), 404, 'participant_not_found', 'not in the room')
  problem(t, await setRole(ada, 'not-a-uuid', 'admin'), 400, 'validation_failed', 'a user id is a uuid')
  problem(t, await setRole(ada, bob, 'admin', unknownRoomId), 404, 'room_not_found', 'no such room')

  const demoted = await setRole(ada, bob, 'member')
  t.equal(demoted.statusCode, 200)
  t.same(roles(demoted.json<Room>())[1], ['Bob', 'member'])
  await waitFor(() => events.length === 3)
  t.match(events[2], { type: 'participants.updated', seq: 3, participants: [{ id: bob.id, role: 'member' }] })
})

t.test('an outsider changes no role and removes nobody: 403 not_a_member', async (t) => {
  const { ada, bob, setRole, remove, user } = await crew(t)
  const eve = await user('Eve')
  problem(t, await setRole(eve, bob, 'admin'), 403, 'not_a_member', 'role')
  problem(t, await remove(eve, bob), 403, 'not_a_member', 'remove')
  t.equal((await setRole(ada, bob, 'admin')).statusCode, 200)
})

t.test('removal: owner removes anyone, an admin members only, a member nobody; each a participants.removed event', async (t) => {
  const { app, ada, bob, cat, dan, room, setRole, remove, get, events } = await crew(t)
  await setRole(ada, bob, 'admin')
  await setRole(ada, cat, 'admin')
  await waitFor(() => events.length === 3)

  problem(t, await remove(dan, cat), 403, 'admin_required', 'a member removes nobody')
  problem(t, await remove(bob, cat), 403, 'outranked', 'an admin cannot remove another admin')
  problem(t, await remove(bob, ada), 403, 'outranked', 'an admin cannot remove the owner')
  problem(t, await remove(bob, unknownRoomId), 404, 'participant_not_found', 'not in the room')
  t.equal(events.length, 3, 'refusals write nothing')

  const removed = await remove(bob, dan)
  t.equal(removed.statusCode, 204, 'an admin removes a member')
  await waitFor(() => events.length === 4)
  t.match(events[3], { type: 'participants.removed', room_id: room.id, seq: 4, users: [{ id: dan.id, display_name: 'Dan' }] })
  problem(t, await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/`, headers: dan.headers }), 403, 'not_a_member', 'the removed user is out')
  problem(t, await remove(bob, dan), 404, 'participant_not_found', 'twice')

  t.equal((await remove(ada, cat)).statusCode, 204, 'the owner removes an admin')
  await waitFor(() => events.length === 5)
  t.same(roles(await get()), [['Ada', 'owner'], ['Bob', 'admin']])

  t.equal((await remove(bob, bob)).statusCode, 204, 'one\'s own id: leaving')
  await waitFor(() => events.length === 6)
  t.match(events[5], { type: 'participants.removed', users: [{ id: bob.id }] })
  t.same(roles(await get()), [['Ada', 'owner']])
})

t.test('rename and avatar: owner and admins only (403 admin_required for a member)', async (t) => {
  const { app, ada, bob, cat, room, setRole, events } = await crew(t)
  await setRole(ada, bob, 'admin')
  const rename = (caller: TestUser, name: string) => app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/`, headers: caller.headers, payload: { name } })
  problem(t, await rename(cat, 'Mine'), 403, 'admin_required', 'a member renames nothing')
  t.equal((await rename(bob, 'By admin')).json<Room>().name, 'By admin')
  t.equal((await rename(ada, 'By owner')).json<Room>().name, 'By owner')
  const png = multipartFile('avatar', 'a.png', 'image/png', Buffer.from('never read'))
  problem(
    t,
    await app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/avatar/`, headers: { ...cat.headers, ...png.headers }, payload: png.payload }),
    403,
    'admin_required',
    'a member sets no avatar (before the upload is looked at)'
  )
  problem(t, await app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/avatar/`, headers: cat.headers }), 403, 'admin_required', 'nor removes it')
  problem(t, await app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/avatar/`, headers: bob.headers }), 404, 'avatar_not_set', 'an admin gets past the role check')
  await waitFor(() => events.length === 4)
  t.same(events.map((event) => event.type), ['participants.added', 'participants.updated', 'room.updated', 'room.updated'])
})

t.test('members_can_add: the owner sets it; false refuses a member\'s add_user, and lets owner and admins add', async (t) => {
  const harness = await crew(t)
  const { app, ada, bob, cat, room, setRole, events } = harness
  await harness.user('Eve')
  await harness.user('Fay')
  t.equal(room.members_can_add, true, 'members add by default')
  await setRole(ada, bob, 'admin')
  const settings = (caller: TestUser, payload: Record<string, unknown>) => app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/`, headers: caller.headers, payload })
  const add = (caller: TestUser, names: string[]) => app.inject({ method: 'POST', url: `/chatrooms/${room.id}/add_user/`, headers: caller.headers, payload: { user_display_names: names } })

  problem(t, await settings(bob, { members_can_add: false }), 403, 'owner_required', 'an admin cannot change it')
  problem(t, await settings(ada, {}), 400, 'validation_failed', 'an empty change')
  problem(t, await settings(ada, { members_can_add: 'no' }), 400, 'validation_failed', 'a boolean')
  problem(t, await settings(bob, { name: 'Both', members_can_add: false }), 403, 'owner_required', 'one part not allowed: nothing changes')
  const closed = await settings(ada, { members_can_add: false })
  t.equal(closed.statusCode, 200)
  t.match(closed.json<Room>(), { name: 'Crew', members_can_add: false })
  await waitFor(() => events.length === 3)
  t.match(events[2], { type: 'room.updated', room: { id: room.id, members_can_add: false } })

  const refused = await add(cat, ['Eve'])
  problem(t, refused, 403, 'admin_required', 'a member cannot add')
  t.notOk((await harness.get()).participants.some((participant) => participant.display_name === 'Eve'), 'nobody was added')
  t.equal((await add(bob, ['Eve'])).statusCode, 200, 'an admin adds')
  t.equal((await add(ada, ['Fay'])).statusCode, 200, 'the owner adds')
  await settings(ada, { members_can_add: true })
  t.equal((await add(cat, ['Eve'])).statusCode, 200, 'members add again')
  t.same(roles(await harness.get()).map(([name]) => name), ['Ada', 'Bob', 'Cat', 'Dan', 'Eve', 'Fay'])
})

t.test('an owner who leaves hands the room to the longest-standing admin, else the longest-standing member', async (t) => {
  const { app, ada, bob, cat, dan, room, setRole, events, db, get } = await crew(t)
  // Joined order: Ada, then Bob, Cat, Dan together; make it strict.
  for (const [user, minutes] of [[bob, 30], [cat, 20], [dan, 10]] as const) {
    // joined_at is never updated by the application (schema.ts): raw SQL.
    await sql`update room_participants set joined_at = now() - make_interval(mins => ${minutes}) where room_id = ${room.id} and user_id = ${user.id}`.execute(db)
  }
  await setRole(ada, dan, 'admin')
  await setRole(ada, cat, 'admin')
  await waitFor(() => events.length === 3)
  const leave = (user: TestUser) => app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/participants/me/`, headers: user.headers })

  t.equal((await leave(ada)).statusCode, 204)
  await waitFor(() => events.length === 5)
  t.match(events[3], { type: 'participants.removed', seq: 4, users: [{ id: ada.id }] })
  t.match(events[4], { type: 'participants.updated', seq: 5, participants: [{ id: cat.id, role: 'owner' }] }, 'Cat: the longest-standing admin, though Bob joined first')
  t.same(roles(await get(bob)), [['Bob', 'member'], ['Cat', 'owner'], ['Dan', 'admin']])

  await setRole(cat, dan, 'member')
  t.equal((await leave(cat)).statusCode, 204)
  await waitFor(() => events.length === 8)
  t.match(events[7], { type: 'participants.updated', participants: [{ id: bob.id, role: 'owner' }] }, 'no admin: the longest-standing member')
  t.same(roles(await get(bob)), [['Bob', 'owner'], ['Dan', 'member']])

  t.equal((await leave(dan)).statusCode, 204, 'a member leaving hands nothing over')
  t.equal((await leave(bob)).statusCode, 204, 'the last one leaves: no heir, no error')
  await waitFor(() => events.length === 10)
  t.same(events.slice(8).map((event) => event.type), ['participants.removed', 'participants.removed'])
})

t.test('concurrent hand-overs keep exactly one owner', async (t) => {
  const { app, ada, bob, cat, dan, room, db } = await crew(t)
  await Promise.all([ada, bob, cat].map((user) => app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/participants/me/`, headers: user.headers })))
  const rows = await db.selectFrom('room_participants').select(['user_id', 'role']).where('room_id', '=', room.id).execute()
  t.same(rows, [{ user_id: dan.id, role: 'owner' }])
})
