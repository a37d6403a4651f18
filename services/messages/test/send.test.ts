import t from 'tap'
import type { Message } from '@chat/contracts'
import { bearer, build, isoMs, publicUser, settle, waitFor } from './helper.js'

t.test('a participant sends: 201, the stored message, and message.created on the bus', async (t) => {
  const { app, db, events, createUser, createRoom, send } = await build(t)
  const ada = await createUser('Ada')
  const bob = await createUser('Bob')
  const roomId = await createRoom(ada, [bob])
  const response = await send(ada, roomId, { text: 'hello', client_msg_id: 'c-1' })
  t.equal(response.statusCode, 201)
  const message = response.json<Message>()
  t.match(message.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUIDv7')
  t.same(message, {
    id: message.id,
    room_id: roomId,
    seq: 1,
    sender: publicUser(ada),
    text: 'hello',
    client_msg_id: 'c-1',
    created_at: message.created_at,
    edited_at: null,
    deleted: false,
    reactions: {},
    my_reaction: null,
    reply_to: null,
    reply_count: 0,
    last_reply_at: null,
    mentions: []
  })
  t.match(message.created_at, isoMs)

  const second = await send(bob, roomId, { text: 'hi Ada' })
  t.equal(second.statusCode, 201)
  t.equal(second.json().seq, 2)
  t.equal(second.json().client_msg_id, null)

  await waitFor(() => events.length === 2)
  t.equal(events[0]?.subject, `chat.room.${roomId}.message.created`)
  t.equal(events[0]?.seqHeader, '1')
  t.same(events[0]?.frame, { type: 'message.created', room_id: roomId, seq: 1, message })
  t.equal(events[1]?.frame.seq, 2)

  const list = await app.inject({ method: 'GET', url: `/messages/${roomId}`, headers: bearer(bob) })
  t.same(list.json().map((stored: Message) => stored.text), ['hello', 'hi Ada'])
  const room = await db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow()
  t.equal(room.last_seq, 2)
  const stored = await db.selectFrom('room_events').select(['seq', 'type']).where('room_id', '=', roomId).orderBy('seq').execute()
  t.same(stored, [{ seq: 1, type: 'message.created' }, { seq: 2, type: 'message.created' }])
})

t.test('text is stored and returned exactly as sent', async (t) => {
  const { app, createUser, createRoom, send } = await build(t)
  const ada = await createUser()
  const roomId = await createRoom(ada)
  const texts = [
    '  padded with spaces and a newline\n',
    '<script>alert("x")</script> & <b>bold</b>',
    '🎉 émoji, "quotes" and \'apostrophes\' \\ backslash',
    '  ' + 'x'.repeat(4000) + '  ',
    '😀'.repeat(4000)
  ]
  for (const text of texts) {
    const response = await send(ada, roomId, { text })
    t.equal(response.statusCode, 201, text.slice(0, 20))
    t.equal(response.json().text, text)
  }
  const list = await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bearer(ada) })
  t.same(list.json().map((message: Message) => message.text), texts)
})

t.test('send validates the text', async (t) => {
  const { db, createUser, createRoom, send } = await build(t)
  const ada = await createUser()
  const roomId = await createRoom(ada)
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['empty', { text: '' }, '/text'],
    ['whitespace only', { text: ' \n\t  ' }, '/text'],
    ['4001 characters', { text: 'x'.repeat(4001) }, '/text'],
    ['4001 emoji', { text: '😀'.repeat(4001) }, '/text'],
    ['NUL', { text: 'a\u0000b' }, '/text'],
    ['missing', {}, '/text'],
    ['not a string', { text: 42 }, '/text'],
    ['empty client_msg_id', { text: 'ok', client_msg_id: '' }, '/client_msg_id'],
    ['unknown member', { text: 'ok', extra: true }, '/extra']
  ]
  for (const [label, body, path] of cases) {
    const response = await send(ada, roomId, body)
    t.equal(response.statusCode, 400, label)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', label)
    const problem = response.json()
    t.equal(problem.code, 'validation_failed', label)
    t.ok(problem.errors.some((issue: { path: string }) => issue.path === path), `${label}: error at ${path}`)
  }
  const count = await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  t.equal(count.n, 0, 'nothing was stored')
  const room = await db.selectFrom('rooms').select('last_seq').executeTakeFirstOrThrow()
  t.equal(room.last_seq, 0, 'no seq was taken')
})

t.test('order of checks: 401, 400 path, 404 room, 403 outsider', async (t) => {
  const { app, createUser, createRoom, send } = await build(t)
  const ada = await createUser()
  const eve = await createUser()
  const roomId = await createRoom(ada)
  const anonymous = await app.inject({ method: 'POST', url: `/messages/${roomId}/`, payload: { text: 'hi' } })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'unauthenticated')
  const badToken = await app.inject({ method: 'POST', url: `/messages/${roomId}/`, headers: bearer('not.a.token'), payload: { text: 'hi' } })
  t.equal(badToken.statusCode, 401)
  const unknownAnonymous = await app.inject({ method: 'POST', url: '/messages/00000000-0000-4000-8000-000000000000/', payload: { text: 'hi' } })
  t.equal(unknownAnonymous.statusCode, 401, 'the token comes first')
  const malformed = await send(ada, 'not-a-uuid', { text: 'hi' })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().code, 'validation_failed')
  t.ok(malformed.json().errors.some((issue: { path: string }) => issue.path === '/room_id'))
  const unknown = await send(ada, '00000000-0000-4000-8000-000000000000', { text: 'hi' })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'room_not_found')
  const outsider = await send(eve, roomId, { text: 'hi' })
  t.equal(outsider.statusCode, 403)
  t.equal(outsider.json().code, 'not_a_member')
  const outsiderRepeat = await send(eve, roomId, { text: 'hi', client_msg_id: 'x' })
  t.equal(outsiderRepeat.statusCode, 403)
})

t.test('a repeated client_msg_id returns the stored message with 200, takes no seq and publishes nothing', async (t) => {
  const { db, events, createUser, createRoom, send } = await build(t)
  const ada = await createUser()
  const bob = await createUser()
  const roomId = await createRoom(ada, [bob])
  const first = await send(ada, roomId, { text: 'once', client_msg_id: 'same' })
  t.equal(first.statusCode, 201)
  const repeat = await send(ada, roomId, { text: 'a different text', client_msg_id: 'same' })
  t.equal(repeat.statusCode, 200)
  t.same(repeat.json(), first.json(), 'the stored message, as it was stored')
  const bobSame = await send(bob, roomId, { text: 'bob', client_msg_id: 'same' })
  t.equal(bobSame.statusCode, 201, 'another sender may use the same id')
  t.equal(bobSame.json().seq, 2, 'the repeat took no seq')
  const otherRoom = await createRoom(ada)
  t.equal((await send(ada, otherRoom, { text: 'elsewhere', client_msg_id: 'same' })).statusCode, 201, 'another room too')
  await settle()
  t.same(events.filter((event) => event.frame.room_id === roomId).map((event) => event.frame.seq), [1, 2], 'no event for the repeat')
  const rows = await db.selectFrom('room_events').select('seq').where('room_id', '=', roomId).execute()
  t.equal(rows.length, 2)
})

t.test('20 racing identical sends: one message, one event, one 201 and nineteen 200s', async (t) => {
  const { db, events, createUser, createRoom, send } = await build(t)
  const ada = await createUser()
  const roomId = await createRoom(ada)
  const responses = await Promise.all(Array.from({ length: 20 }, () => send(ada, roomId, { text: 'racing', client_msg_id: 'race-1' })))
  const statuses = responses.map((response) => response.statusCode).sort()
  t.same(statuses, [...Array(19).fill(200), 201].sort())
  const ids = new Set(responses.map((response) => response.json().id))
  t.equal(ids.size, 1, 'every answer is the same message')
  t.same(responses.map((response) => response.json().seq), Array(20).fill(1))
  const messages = await db.selectFrom('messages').select('id').where('room_id', '=', roomId).execute()
  t.equal(messages.length, 1)
  const stored = await db.selectFrom('room_events').select('seq').where('room_id', '=', roomId).execute()
  t.equal(stored.length, 1)
  const room = await db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow()
  t.equal(room.last_seq, 1)
  await settle(100)
  t.equal(events.length, 1, 'one event on the bus')
})

t.test('500 concurrent sends by 10 users into one room: seqs 1..500, no gap, no duplicate', async (t) => {
  const { db, events, createUser, createRoom, send } = await build(t)
  const users = await Promise.all(Array.from({ length: 10 }, (_, index) => createUser(`sender-${index}`)))
  const [owner, ...members] = users
  const roomId = await createRoom(owner!, members)
  const responses = await Promise.all(
    Array.from({ length: 500 }, (_, index) => send(users[index % 10]!, roomId, { text: `message ${index}`, client_msg_id: `m-${index}` }))
  )
  t.ok(responses.every((response) => response.statusCode === 201), 'all stored')
  const seqs = responses.map((response) => response.json().seq as number).sort((a, b) => a - b)
  t.same(seqs, Array.from({ length: 500 }, (_, index) => index + 1))
  const messages = await db.selectFrom('messages').select('seq').where('room_id', '=', roomId).orderBy('seq').execute()
  const stored = await db.selectFrom('room_events').select(['seq', 'type']).where('room_id', '=', roomId).orderBy('seq').execute()
  t.same(messages.map((row) => row.seq), seqs)
  t.same(stored.map((row) => row.seq), seqs, 'one event per message, same seqs')
  t.ok(stored.every((row) => row.type === 'message.created'))
  const room = await db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow()
  t.equal(room.last_seq, 500)
  await waitFor(() => events.length === 500)
  t.same(events.map((event) => event.frame.seq).sort((a, b) => a - b), seqs, 'each published once')
})
