import t from 'tap'
import type { Room } from '@chat/contracts'
import { build, waitFor, type Harness, type TestUser } from './helper.js'

// Blocks and rooms_invite are written by the identity service (its own
// tests cover those endpoints); here they are rows, and the rooms service
// reads them.
async function block(harness: Harness, blocker: TestUser, blocked: TestUser): Promise<void> {
  await harness.db.insertInto('user_blocks').values({ blocker_id: blocker.id, blocked_id: blocked.id }).execute()
}

/** The answer for `name`, with the name itself replaced, so that a blocked name's answer can be compared with an unknown one's. */
function withoutName(response: { statusCode: number; body: string }, name: string): { status: number; body: unknown } {
  return { status: response.statusCode, body: JSON.parse(response.body.replaceAll(name, '<name>')) }
}

t.test('a blocked user cannot add the blocker: the same 400 users_not_found as an unknown name, nobody added', async (t) => {
  const harness = await build(t)
  const { app, events } = harness
  const [ada, bob] = [await harness.user('Ada'), await harness.user('Bob')]
  await harness.user('Cat')
  const room = await harness.createRoom(bob, 'Bob\'s', [])
  await block(harness, ada, bob)
  const add = (names: string[]) => app.inject({ method: 'POST', url: `/chatrooms/${room.id}/add_user/`, headers: bob.headers, payload: { user_display_names: names } })
  const blocked = await add(['Cat', 'Ada'])
  const unknown = await add(['Cat', 'Zed'])
  t.equal(blocked.statusCode, 400)
  t.match(blocked.json(), { code: 'users_not_found', not_found: ['Ada'] })
  t.same(withoutName(blocked, 'Ada'), withoutName(unknown, 'Zed'), 'the block is not revealed')
  const after = await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/`, headers: bob.headers })
  t.same(after.json<Room>().participants.map((participant) => participant.display_name), ['Bob'], 'not even Cat was added')
  t.equal(events.length, 0)

  const other = await harness.createRoom(ada, 'Ada\'s', [])
  const reverse = await app.inject({ method: 'POST', url: `/chatrooms/${other.id}/add_user/`, headers: ada.headers, payload: { user_display_names: ['Bob'] } })
  t.equal(reverse.statusCode, 200, 'the blocker may still add the one they blocked')
})

t.test('a blocked user cannot create a room with the blocker: the same answer as an unknown name, nothing created', async (t) => {
  const harness = await build(t)
  const [ada, bob] = [await harness.user('Ada'), await harness.user('Bob')]
  await block(harness, ada, bob)
  const create = (names: string[]) => harness.app.inject({ method: 'POST', url: '/chatrooms/', headers: bob.headers, payload: { name: 'Trap', participants_display_names: names } })
  const blocked = await create(['ada'])
  t.equal(blocked.statusCode, 400)
  t.same(withoutName(blocked, 'ada'), withoutName(await create(['zed']), 'zed'))
  t.equal((await harness.db.selectFrom('rooms').select('id').execute()).length, 0, 'no room')
})

t.test('a blocked user cannot open a direct room with the blocker, not even one they had; the blocker can', async (t) => {
  const harness = await build(t)
  const [ada, bob] = [await harness.user('Ada'), await harness.user('Bob')]
  const open = (caller: TestUser, name: string) => harness.app.inject({ method: 'POST', url: '/direct/', headers: caller.headers, payload: { display_name: name } })
  t.equal((await open(bob, 'Ada')).statusCode, 201, 'before the block')
  await block(harness, ada, bob)
  const blocked = await open(bob, 'Ada')
  t.equal(blocked.statusCode, 400)
  t.same(withoutName(blocked, 'Ada'), withoutName(await open(bob, 'Zed'), 'Zed'), 'as for an unknown name')
  t.equal((await open(ada, 'Bob')).statusCode, 200, 'the blocker still finds the room')
})

t.test('rooms_invite nobody: no one else puts them into a group room (as an unknown name); direct rooms stay open', async (t) => {
  const harness = await build(t)
  const { app, db, events } = harness
  const [ada, cat] = [await harness.user('Ada'), await harness.user('Cat')]
  const room = await harness.createRoom(ada, 'Before', ['Cat'])
  await db.updateTable('users').set({ rooms_invite: 'nobody' }).where('id', '=', cat.id).execute()

  const created = await app.inject({ method: 'POST', url: '/chatrooms/', headers: ada.headers, payload: { name: 'After', participants_display_names: ['Cat'] } })
  t.equal(created.statusCode, 400)
  t.same(withoutName(created, 'Cat'), withoutName(await app.inject({ method: 'POST', url: '/chatrooms/', headers: ada.headers, payload: { name: 'After', participants_display_names: ['Zed'] } }), 'Zed'))
  const later = await harness.createRoom(ada, 'Later', [])
  const added = await app.inject({ method: 'POST', url: `/chatrooms/${later.id}/add_user/`, headers: ada.headers, payload: { user_display_names: ['Cat'] } })
  t.match(added.json(), { code: 'users_not_found', not_found: ['Cat'] })

  const again = await app.inject({ method: 'POST', url: `/chatrooms/${room.id}/add_user/`, headers: ada.headers, payload: { user_display_names: ['Cat'] } })
  t.equal(again.statusCode, 200, 'already in the room: ignored as before, nothing revealed')
  const own = await app.inject({ method: 'POST', url: '/chatrooms/', headers: cat.headers, payload: { name: 'Mine', participants_display_names: ['Cat'] } })
  t.equal(own.statusCode, 201, 'their own name in their own room')
  t.equal((await app.inject({ method: 'POST', url: '/direct/', headers: ada.headers, payload: { display_name: 'Cat' } })).statusCode, 201, 'a direct room is still allowed')
  await waitFor(() => events.length === 2)
  t.same(events.map((event) => event.type), ['participants.added', 'participants.added'], 'the first room, and the direct room')
})

t.test('a blocked user already in a room with the blocker: add_user of the blocker is ignored as for any participant', async (t) => {
  const harness = await build(t)
  const [ada, bob] = [await harness.user('Ada'), await harness.user('Bob')]
  const room = await harness.createRoom(ada, 'Shared', ['Bob'])
  await block(harness, ada, bob)
  const added = await harness.app.inject({ method: 'POST', url: `/chatrooms/${room.id}/add_user/`, headers: bob.headers, payload: { user_display_names: ['Ada'] } })
  t.equal(added.statusCode, 200)
  t.equal(added.json<Room>().last_seq, 1, 'nothing added')
})
