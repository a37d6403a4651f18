import t from 'tap'
import { sql } from 'kysely'
import type { Room } from '@chat/contracts'
import { build, unknownRoomId, waitFor } from './helper.js'

t.test('create a room: owner, members, duplicates and own name ignored, one event', async (t) => {
  const { app, events, user } = await build(t)
  const ada = await user('Ada')
  const bob = await user('Bob')
  const eve = await user('Ève')
  const response = await app.inject({
    method: 'POST',
    url: '/chatrooms/',
    headers: ada.headers,
    payload: { name: '  Launch <crew> ', participants_display_names: ['bob', 'BOB', 'Ada', 'E\u0300ve'] }
  })
  t.equal(response.statusCode, 201)
  const room = response.json<Room>()
  t.equal(room.name, '  Launch <crew> ', 'stored as sent')
  t.same(room.created_by, { id: ada.id, display_name: 'Ada', created_at: room.created_by.created_at })
  t.same(room.participants.map((participant) => [participant.display_name, participant.role]).sort(), [['Ada', 'owner'], ['Bob', 'member'], ['Ève', 'member']])
  t.equal(room.avatar_url, null)
  t.equal(room.last_seq, 1, 'adding the others was event 1')
  t.equal(room.last_read_seq, 0)
  t.equal(room.unread_count, 0)
  await waitFor(() => events.length === 1)
  t.match(events[0], { type: 'participants.added', room_id: room.id, seq: 1 })
  t.same((events[0]?.users as Array<{ id: string }>).map((added) => added.id).sort(), [bob.id, eve.id].sort())

  const alone = await app.inject({ method: 'POST', url: '/chatrooms', headers: bob.headers, payload: { name: 'Solo' } })
  t.equal(alone.statusCode, 201)
  t.equal(alone.json().last_seq, 0, 'a room without others starts with no event')
})

t.test('create with unknown names: 400 users_not_found listing them as spelled, nothing written', async (t) => {
  const { app, db, events, user } = await build(t)
  const ada = await user('Ada')
  await user('Bob')
  const response = await app.inject({
    method: 'POST',
    url: '/chatrooms/',
    headers: ada.headers,
    payload: { name: 'Nope', participants_display_names: ['Bob', 'Zed', 'zed', 'Quinn '] }
  })
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'users_not_found')
  t.same(response.json().not_found, ['Zed', 'Quinn '])
  t.equal((await db.selectFrom('rooms').select('id').execute()).length, 0, 'no room')
  t.equal((await db.selectFrom('room_participants').select('user_id').execute()).length, 0, 'no participant')
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(events.length, 0, 'no event')
})

t.test('create validates its body', async (t) => {
  const { app, user } = await build(t)
  const ada = await user('Ada')
  const cases: Array<[string, unknown, string]> = [
    ['blank name', { name: '   ' }, '/name'],
    ['empty name', { name: '' }, '/name'],
    ['long name', { name: 'n'.repeat(101) }, '/name'],
    ['too many names', { name: 'x', participants_display_names: Array.from({ length: 1001 }, (_, index) => `u${index}`) }, '/participants_display_names'],
    ['name too long in list', { name: 'x', participants_display_names: ['y'.repeat(65)] }, '/participants_display_names/0'],
    ['unknown member', { name: 'x', topic: 'y' }, '/topic'],
    ['NUL in the name', { name: 'a\u0000b' }, '/name'],
    ['lone surrogate in the name', { name: 'a\ud800' }, '/name'],
    ['NUL in a display name', { name: 'x', participants_display_names: ['Bo\u0000b'] }, '/participants_display_names/0']
  ]
  for (const [label, payload, path] of cases) {
    const response = await app.inject({ method: 'POST', url: '/chatrooms/', headers: ada.headers, payload: payload as object })
    t.equal(response.statusCode, 400, label)
    t.ok(response.json().errors?.some((issue: { path: string }) => issue.path === path), `${label} at ${path}: ${response.body}`)
  }
  t.equal((await app.inject({ method: 'POST', url: '/chatrooms/', payload: { name: 'x' } })).statusCode, 401)
})

t.test('get one room: 401, 400, 404, 403 and 200', async (t) => {
  const { app, user, createRoom } = await build(t)
  const ada = await user('Ada')
  const mallory = await user('Mallory')
  const room = await createRoom(ada, 'Private')
  t.equal((await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/` })).statusCode, 401)
  const malformed = await app.inject({ method: 'GET', url: '/chatrooms/not-a-uuid/', headers: ada.headers })
  t.equal(malformed.statusCode, 400)
  const unknown = await app.inject({ method: 'GET', url: `/chatrooms/${unknownRoomId}/`, headers: ada.headers })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'room_not_found')
  const outsider = await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/`, headers: mallory.headers })
  t.equal(outsider.statusCode, 403)
  t.equal(outsider.json().code, 'not_a_member')
  t.notMatch(outsider.body, /Private/, 'an outsider learns nothing')
  const own = await app.inject({ method: 'GET', url: `/chatrooms/${room.id}`, headers: ada.headers })
  t.equal(own.statusCode, 200)
  t.equal(own.json().name, 'Private')
})

t.test('list: most recent activity first, with read positions and unread counts, in a fixed number of queries', async (t) => {
  const { app, db, user, createRoom } = await build(t)
  const ada = await user('Ada')
  const bob = await user('Bob')
  const rooms: Room[] = []
  for (let index = 0; index < 12; index++) rooms.push(await createRoom(ada, `room ${index}`, ['Bob']))
  // Bob writes 3 messages into room 4 (directly: the messages service is not under test here).
  const target = rooms[4] as Room
  for (let seq = 2; seq <= 4; seq++) {
    await db.updateTable('rooms').set({ last_seq: seq, last_activity_at: new Date(Date.now() + seq * 1000) }).where('id', '=', target.id).execute()
    await db.insertInto('messages').values({ id: crypto.randomUUID(), room_id: target.id, seq, sender_id: bob.id, text: `m${seq}` }).execute()
  }
  await db.insertInto('messages').values({ id: crypto.randomUUID(), room_id: target.id, seq: 5, sender_id: ada.id, text: 'mine' }).execute()

  const response = await app.inject({ method: 'GET', url: '/chatrooms/', headers: ada.headers })
  t.equal(response.statusCode, 200)
  const listed = response.json<Room[]>()
  t.equal(listed.length, 12)
  t.equal(listed[0]?.id, target.id, 'the most recently active room comes first')
  t.equal(listed[0]?.unread_count, 3, "messages by others only; the caller's own do not count")
  t.equal(listed[1]?.id, rooms[11]?.id, 'then by activity')
  t.equal(listed[0]?.participants.length, 2)
  const bobs = await app.inject({ method: 'GET', url: '/chatrooms/', headers: bob.headers })
  t.equal(bobs.json().length, 12)
  t.equal(bobs.json()[0].unread_count, 1, "for Bob, Ada's message is unread")
})

t.test('unread_mentions: mentions of the caller past their read position, per room, in the list and the read answer', async (t) => {
  const { app, db, user, createRoom } = await build(t)
  const ada = await user('Ada')
  const bob = await user('Bob')
  const quiet = await createRoom(ada, 'Quiet', ['Bob'])
  const busy = await createRoom(ada, 'Busy', ['Bob'])
  // Bob's messages 2..5 in Busy mention Ada at 2, 3 and 5 (and Bob himself never); one in Quiet (directly: the messages service writes these).
  const mention = async (roomId: string, seq: number, mentioned: string[]) => {
    const id = crypto.randomUUID()
    await db.insertInto('messages').values({ id, room_id: roomId, seq, sender_id: bob.id, text: `m${seq}` }).execute()
    for (const userId of mentioned) await db.insertInto('message_mentions').values({ message_id: id, user_id: userId, room_id: roomId, seq }).execute()
  }
  await mention(busy.id, 2, [ada.id])
  await mention(busy.id, 3, [ada.id])
  await mention(busy.id, 4, [])
  await mention(busy.id, 5, [ada.id])
  await mention(quiet.id, 2, [ada.id])
  await db.updateTable('rooms').set({ last_seq: 5 }).where('id', '=', busy.id).execute()
  await db.updateTable('rooms').set({ last_seq: 2 }).where('id', '=', quiet.id).execute()

  const counts = async (headers = ada.headers) =>
    Object.fromEntries((await app.inject({ method: 'GET', url: '/chatrooms/', headers })).json<Room[]>().map((room) => [room.name, room.unread_mentions]))
  t.same(await counts(), { Quiet: 1, Busy: 3 })
  t.same(await counts(bob.headers), { Quiet: 0, Busy: 0 }, 'per user')
  const read = await app.inject({ method: 'PUT', url: `/chatrooms/${busy.id}/read/`, headers: ada.headers, payload: { seq: 3 } })
  t.same(read.json(), { last_read_seq: 3, unread_count: 2, unread_mentions: 1 })
  t.same(await counts(), { Quiet: 1, Busy: 1 }, 'only those past the read position')
  const one = await app.inject({ method: 'GET', url: `/chatrooms/${quiet.id}/`, headers: ada.headers })
  t.equal(one.json<Room>().unread_mentions, 1, 'one room too')
})

t.test('the list pages by activity with a Link cursor', async (t) => {
  const { app, db, user, createRoom } = await build(t)
  const ada = await user('Ada')
  const ids: string[] = []
  for (let index = 0; index < 7; index++) ids.push((await createRoom(ada, `room ${index}`)).id)
  // Two rooms with the very same activity time, down to the microsecond: the id breaks the tie.
  await db.updateTable('rooms').set({ last_activity_at: sql`'2026-11-26 20:15:00.123456+00'` }).where('id', 'in', [ids[2] as string, ids[3] as string]).execute()
  const seen: string[] = []
  let url: string | undefined = '/chatrooms/?limit=3'
  let pages = 0
  while (url) {
    const response = await app.inject({ method: 'GET', url, headers: ada.headers })
    t.equal(response.statusCode, 200)
    seen.push(...response.json<Room[]>().map((room) => room.id))
    const link = response.headers.link as string | undefined
    url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined
    pages += 1
  }
  t.equal(pages, 3)
  t.equal(seen.length, 7, 'every room once')
  t.same([...seen].sort(), [...ids].sort())
  const all = await app.inject({ method: 'GET', url: '/chatrooms/', headers: ada.headers })
  t.same(all.json<Room[]>().map((room) => room.id), seen, 'pages join up in the order of the whole list')
  t.notOk(all.headers.link, 'no next page when everything fits')
  for (const query of ['limit=0', 'limit=201', 'before=nonsense', `before=${Buffer.from('1.x').toString('base64url')}`]) {
    t.equal((await app.inject({ method: 'GET', url: `/chatrooms/?${query}`, headers: ada.headers })).statusCode, 400, query)
  }
})

t.test('listing runs the same number of queries for 1 room and for 30', async (t) => {
  const { app, user, createRoom, queries } = await build(t)
  const ada = await user('Ada')
  await user('Bob')
  const countListing = async (): Promise<number> => {
    const before = queries.count
    const response = await app.inject({ method: 'GET', url: '/chatrooms/', headers: ada.headers })
    t.equal(response.statusCode, 200)
    return queries.count - before
  }
  await createRoom(ada, 'first', ['Bob'])
  const forOne = await countListing()
  for (let index = 0; index < 29; index++) await createRoom(ada, `room ${index}`, ['Bob'])
  const forThirty = await countListing()
  t.equal(forThirty, forOne, `${forOne} queries either way`)
  t.ok(forOne <= 5, 'one query per kind of data: rooms, participants, read positions, unread counts, unread mentions')
})

t.test('add_user: any participant adds; existing ignored; unknown names add nobody', async (t) => {
  const { app, db, events, user, createRoom } = await build(t)
  const ada = await user('Ada')
  const bob = await user('Bob')
  const cy = await user('Cy')
  await user('Dee')
  const room = await createRoom(ada, 'Team', ['Bob'])
  const byBob = await app.inject({ method: 'POST', url: `/chatrooms/${room.id}/add_user/`, headers: bob.headers, payload: { user_display_names: ['cy', 'Ada', 'Bob'] } })
  t.equal(byBob.statusCode, 200)
  t.equal(byBob.json().participants.length, 3)
  t.equal(byBob.json().last_seq, 2)
  await waitFor(() => events.length === 2)
  t.match(events[1], { type: 'participants.added', seq: 2, users: [{ id: cy.id, display_name: 'Cy' }] })
  t.equal((events[1]?.users as unknown[]).length, 1, 'only the one really added')

  const again = await app.inject({ method: 'POST', url: `/chatrooms/${room.id}/add_user`, headers: ada.headers, payload: { user_display_names: ['Cy'] } })
  t.equal(again.statusCode, 200)
  t.equal(again.json().last_seq, 2, 'nobody new: no event, no seq')

  const unknown = await app.inject({ method: 'POST', url: `/chatrooms/${room.id}/add_user/`, headers: ada.headers, payload: { user_display_names: ['Dee', 'Nobody'] } })
  t.equal(unknown.statusCode, 400)
  t.same(unknown.json().not_found, ['Nobody'])
  const dee = await db.selectFrom('room_participants').innerJoin('users', 'users.id', 'room_participants.user_id').select('users.display_name').where('room_id', '=', room.id).execute()
  t.notOk(dee.some((row) => row.display_name === 'Dee'), 'Dee was not added')

  const outsider = await user('Out')
  t.equal((await app.inject({ method: 'POST', url: `/chatrooms/${room.id}/add_user/`, headers: outsider.headers, payload: { user_display_names: ['Out'] } })).statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: `/chatrooms/${unknownRoomId}/add_user/`, headers: ada.headers, payload: { user_display_names: ['Cy'] } })).statusCode, 404)
  t.equal((await app.inject({ method: 'POST', url: `/chatrooms/${room.id}/add_user/`, headers: ada.headers, payload: { user_display_names: [] } })).statusCode, 400)
})

t.test('20 concurrent add_user calls on one room: no duplicate, gapless seqs, one event per call that added someone', async (t) => {
  const { app, db, events, user, createRoom } = await build(t)
  const ada = await user('Ada')
  const names: string[] = []
  for (let index = 0; index < 15; index++) names.push((await user(`member${index}`)).display_name)
  const room = await createRoom(ada, 'Busy')
  // Overlapping sets: calls race to add the same people, in different orders.
  const calls = Array.from({ length: 20 }, (_, call) => {
    const picked = names.filter((_, index) => (index + call) % 4 === 0)
    return call % 2 === 0 ? picked : picked.reverse()
  })
  const responses = await Promise.all(
    calls.map((userDisplayNames) => app.inject({ method: 'POST', url: `/chatrooms/${room.id}/add_user/`, headers: ada.headers, payload: { user_display_names: userDisplayNames } }))
  )
  t.same([...new Set(responses.map((response) => response.statusCode))], [200])
  const participants = await db.selectFrom('room_participants').select('user_id').where('room_id', '=', room.id).execute()
  t.equal(participants.length, 16, 'everyone once')
  const rows = await db.selectFrom('room_events').select(['seq', 'payload']).where('room_id', '=', room.id).orderBy('seq').execute()
  t.same(rows.map((row) => row.seq), rows.map((_, index) => index + 1), 'gapless')
  const addedIds = rows.flatMap((row) => (row.payload as { users: Array<{ id: string }> }).users.map((added) => added.id))
  t.equal(addedIds.length, 15, 'each added user in exactly one event')
  t.equal(new Set(addedIds).size, 15)
  t.ok(rows.length <= 4 && rows.length >= 1, 'one event per call that added someone, none for the others')
  const finalRoom = await db.selectFrom('rooms').select('last_seq').where('id', '=', room.id).executeTakeFirstOrThrow()
  t.equal(finalRoom.last_seq, rows.length)
  await waitFor(() => events.length === rows.length)
  t.same(events.map((event) => event.seq).sort((a, b) => a - b), rows.map((row) => row.seq))
})

t.test('leaving: the room stays for the others; an event says who left', async (t) => {
  const { app, events, user, createRoom } = await build(t)
  const ada = await user('Ada')
  const bob = await user('Bob')
  const room = await createRoom(ada, 'Leaving', ['Bob'])
  const left = await app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/participants/me/`, headers: ada.headers })
  t.equal(left.statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/`, headers: ada.headers })).statusCode, 403, 'no longer a member')
  const forBob = await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/`, headers: bob.headers })
  t.equal(forBob.statusCode, 200)
  t.same(forBob.json().participants.map((participant: { id: string; role: string }) => [participant.id, participant.role]), [[bob.id, 'owner']], 'the owner left: Bob owns it now')
  await waitFor(() => events.length === 3)
  t.match(events[1], { type: 'participants.removed', seq: 2, users: [{ id: ada.id, display_name: 'Ada' }] })
  t.match(events[2], { type: 'participants.updated', seq: 3, participants: [{ id: bob.id, role: 'owner' }] })
  t.equal((await app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/participants/me/`, headers: ada.headers })).statusCode, 403, 'twice: not a member')
  t.equal((await app.inject({ method: 'DELETE', url: `/chatrooms/${unknownRoomId}/participants/me/`, headers: ada.headers })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/chatrooms/', headers: ada.headers })).json().length, 0)
})

t.test('read position: clamped, never backwards, unread count', async (t) => {
  const { app, db, user, createRoom } = await build(t)
  const ada = await user('Ada')
  const bob = await user('Bob')
  const room = await createRoom(ada, 'Reading', ['Bob'])
  for (let seq = 2; seq <= 6; seq++) {
    await db.insertInto('messages').values({ id: crypto.randomUUID(), room_id: room.id, seq, sender_id: bob.id, text: `m${seq}` }).execute()
  }
  await db.updateTable('rooms').set({ last_seq: 6 }).where('id', '=', room.id).execute()
  const put = (seq: unknown, headers = ada.headers) => app.inject({ method: 'PUT', url: `/chatrooms/${room.id}/read/`, headers, payload: { seq } })
  t.same((await put(3)).json(), { last_read_seq: 3, unread_count: 3, unread_mentions: 0 })
  t.same((await put(1)).json(), { last_read_seq: 3, unread_count: 3, unread_mentions: 0 }, 'never backwards')
  t.same((await put(999)).json(), { last_read_seq: 6, unread_count: 0, unread_mentions: 0 }, 'clamped to last_seq')
  t.equal((await put(-1)).statusCode, 400)
  t.equal((await put(1e30)).statusCode, 400, 'beyond any seq: 400, not a database error')
  t.equal((await put(9223372036854775808)).statusCode, 400)
  t.equal((await put(1.5)).statusCode, 400)
  t.equal((await put('4')).statusCode, 400)
  const outsider = await user('Out')
  t.equal((await put(1, outsider.headers)).statusCode, 403)
  t.equal((await app.inject({ method: 'PUT', url: `/chatrooms/${unknownRoomId}/read/`, headers: ada.headers, payload: { seq: 1 } })).statusCode, 404)
  const listed = await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/`, headers: ada.headers })
  t.equal(listed.json().last_read_seq, 6)
})

t.test('rename: room.updated with the room as it now is', async (t) => {
  const { app, events, user, createRoom } = await build(t)
  const ada = await user('Ada')
  await user('Bob')
  const room = await createRoom(ada, 'Old', ['Bob'])
  const renamed = await app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/`, headers: ada.headers, payload: { name: 'New' } })
  t.equal(renamed.statusCode, 200)
  t.equal(renamed.json().name, 'New')
  t.equal(renamed.json().last_seq, 2)
  await waitFor(() => events.length === 2)
  t.match(events[1], { type: 'room.updated', seq: 2, room: { id: room.id, name: 'New', last_seq: 2, last_read_seq: 0, unread_count: 0 } })
  t.equal((await app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/`, headers: ada.headers, payload: { name: ' ' } })).statusCode, 400)
})
