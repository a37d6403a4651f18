import t from 'tap'
import type { Message } from '@chat/contracts'
import { bearer, build, isoMs, waitFor } from './helper.js'

function links(header: string | string[] | number | undefined): Record<string, string> {
  const result: Record<string, string> = {}
  for (const part of String(header ?? '').split(',')) {
    const match = /<([^>]+)>;\s*rel="(\w+)"/.exec(part.trim())
    if (match) result[match[2]!] = match[1]!
  }
  return result
}

t.test('a reply: reply_to, the root\'s counts in the same message.created (no extra seq), and the thread listing', async (t) => {
  const { app, db, events, createUser, createRoom, send } = await build(t)
  const ada = await createUser('Ada')
  const bob = await createUser('Bob')
  const roomId = await createRoom(ada, [bob])
  const root = (await send(ada, roomId, { text: 'root' })).json<Message>()
  t.same([root.reply_to, root.reply_count, root.last_reply_at], [null, 0, null], 'a message outside a thread')

  const first = await send(bob, roomId, { text: 'first reply', reply_to: root.id })
  t.equal(first.statusCode, 201)
  const reply = first.json<Message>()
  t.equal(reply.reply_to, root.id)
  t.equal(reply.seq, 2)
  await send(ada, roomId, { text: 'in the room' })
  // A reply to a reply joins the root's thread.
  const second = (await send(ada, roomId, { text: 'second reply', reply_to: reply.id })).json<Message>()
  t.equal(second.reply_to, root.id, 'the thread is always named by its root')

  await waitFor(() => events.length === 4)
  t.same(events.map((event) => event.frame.seq), [1, 2, 3, 4], 'one seq per message, none for the root\'s counts')
  const threadRoot = (index: number): unknown => (events[index]?.frame as { thread_root?: unknown }).thread_root
  t.same(threadRoot(1), { id: root.id, reply_count: 1, last_reply_at: reply.created_at })
  t.same(threadRoot(3), { id: root.id, reply_count: 2, last_reply_at: second.created_at })
  t.notOk('thread_root' in (events[2]?.frame ?? {}), 'a message outside a thread carries no thread_root')
  t.equal(await db.selectFrom('room_events').select((eb) => eb.fn.countAll<number>().as('n')).where('room_id', '=', roomId).executeTakeFirstOrThrow().then((row) => Number(row.n)), 4)

  const get = (url: string) => app.inject({ method: 'GET', url, headers: bearer(bob) })
  const listed = (await get(`/messages/${roomId}/`)).json<Message[]>()
  t.same(listed.map((message) => [message.seq, message.reply_to, message.reply_count]), [[1, null, 2], [2, root.id, 0], [3, null, 0], [4, root.id, 0]], 'the room lists replies too, and the root\'s count')
  t.equal(listed[0]?.last_reply_at, second.created_at)
  t.match(listed[0]?.last_reply_at, isoMs)

  const thread = await get(`/messages/${roomId}/${root.id}/thread/`)
  t.equal(thread.statusCode, 200)
  t.same(thread.json<Message[]>().map((message) => message.text), ['first reply', 'second reply'], 'replies in seq order, without the root')
  t.equal(thread.headers.link, undefined)
  const viaReply = await get(`/messages/${roomId}/${reply.id}/thread`)
  t.same(viaReply.json<Message[]>().map((message) => message.seq), [2, 4], 'a reply\'s id lists the thread it is in (no trailing slash too)')
})

t.test('thread pages: limit, before_seq, after_seq and Link, as for the room', async (t) => {
  const { app, createUser, createRoom, send } = await build(t)
  const ada = await createUser()
  const roomId = await createRoom(ada)
  const root = (await send(ada, roomId, { text: 'root' })).json<Message>()
  for (let index = 1; index <= 5; index++) {
    await send(ada, roomId, { text: `r${index}`, reply_to: root.id })
    await send(ada, roomId, { text: `m${index}` })
  }
  const get = (url: string) => app.inject({ method: 'GET', url, headers: bearer(ada) })
  const base = `/messages/${roomId}/${root.id}/thread/`
  const latest = await get(`${base}?limit=2`)
  t.same(latest.json<Message[]>().map((message) => message.text), ['r4', 'r5'])
  t.same(links(latest.headers.link), { prev: `${base}?before_seq=8&limit=2` })
  const older = await get(links(latest.headers.link).prev!)
  t.same(older.json<Message[]>().map((message) => message.text), ['r2', 'r3'])
  t.same(links(older.headers.link), { prev: `${base}?before_seq=4&limit=2`, next: `${base}?after_seq=6&limit=2` })
  const forward = await get(`${base}?after_seq=2&limit=3`)
  t.same(forward.json<Message[]>().map((message) => message.text), ['r2', 'r3', 'r4'])
  t.same(links(forward.headers.link), { prev: `${base}?before_seq=4&limit=3`, next: `${base}?after_seq=8&limit=3` })
  t.equal((await get(`${base}?limit=500`)).statusCode, 400, 'the same limits')
  t.equal((await get(`${base}?before_seq=3&after_seq=1`)).statusCode, 400)
})

t.test('reply_to of another room or unknown: 404 reply_to_not_found, nothing stored; the order of checks', async (t) => {
  const { app, db, createUser, createRoom, send } = await build(t)
  const ada = await createUser()
  const eve = await createUser()
  const roomId = await createRoom(ada)
  const otherRoom = await createRoom(ada)
  const elsewhere = (await send(ada, otherRoom, { text: 'other room' })).json<Message>()

  const foreign = await send(ada, roomId, { text: 'reply', reply_to: elsewhere.id })
  t.equal(foreign.statusCode, 404)
  t.equal(foreign.json().code, 'reply_to_not_found')
  t.equal(foreign.headers['content-type'], 'application/problem+json; charset=utf-8')
  const unknown = await send(ada, roomId, { text: 'reply', reply_to: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f' })
  t.equal(unknown.json().code, 'reply_to_not_found')
  t.equal((await send(ada, roomId, { text: 'reply', reply_to: 'nope' })).statusCode, 400, 'not a uuid')
  t.equal((await send(eve, roomId, { text: 'reply', reply_to: elsewhere.id })).json().code, 'not_a_member', 'outsiders learn nothing')
  const room = await db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow()
  t.equal(room.last_seq, 0, 'no seq taken')
  const other = await db.selectFrom('messages').select('reply_count').where('id', '=', elsewhere.id).executeTakeFirstOrThrow()
  t.equal(other.reply_count, 0)

  const threadElsewhere = await app.inject({ method: 'GET', url: `/messages/${roomId}/${elsewhere.id}/thread/`, headers: bearer(ada) })
  t.equal(threadElsewhere.statusCode, 404)
  t.equal(threadElsewhere.json().code, 'message_not_found')
  const outsider = await app.inject({ method: 'GET', url: `/messages/${otherRoom}/${elsewhere.id}/thread/`, headers: bearer(eve) })
  t.equal(outsider.json().code, 'not_a_member')
  t.equal((await app.inject({ method: 'GET', url: `/messages/${otherRoom}/${elsewhere.id}/thread/` })).statusCode, 401)
})

t.test('a deleted root keeps its thread; replies may follow; a deleted reply stays counted as a tombstone', async (t) => {
  const { app, createUser, createRoom, send } = await build(t)
  const ada = await createUser()
  const bob = await createUser()
  const roomId = await createRoom(ada, [bob])
  const root = (await send(ada, roomId, { text: 'root' })).json<Message>()
  const reply = (await send(bob, roomId, { text: 'reply', reply_to: root.id })).json<Message>()
  const removed = await app.inject({ method: 'DELETE', url: `/messages/${roomId}/${root.id}/`, headers: bearer(ada) })
  t.equal(removed.statusCode, 204)
  const late = await send(bob, roomId, { text: 'late reply', reply_to: root.id })
  t.equal(late.statusCode, 201, 'a deleted root still takes replies')
  await app.inject({ method: 'DELETE', url: `/messages/${roomId}/${reply.id}/`, headers: bearer(bob) })
  const list = (await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bearer(bob) })).json<Message[]>()
  t.match(list[0], { id: root.id, deleted: true, text: '', reply_count: 2, last_reply_at: late.json<Message>().created_at })
  const thread = (await app.inject({ method: 'GET', url: `/messages/${roomId}/${root.id}/thread/`, headers: bearer(bob) })).json<Message[]>()
  t.same(thread.map((message) => [message.text, message.deleted]), [['', true], ['late reply', false]])
})

t.test('a repeated client_msg_id of a reply counts once', async (t) => {
  const { db, createUser, createRoom, send } = await build(t)
  const ada = await createUser()
  const roomId = await createRoom(ada)
  const root = (await send(ada, roomId, { text: 'root' })).json<Message>()
  const answers = await Promise.all([1, 2, 3].map(() => send(ada, roomId, { text: 'once', client_msg_id: 'c-1', reply_to: root.id })))
  t.same(answers.map((answer) => answer.statusCode).sort(), [200, 200, 201])
  const stored = await db.selectFrom('messages').select('reply_count').where('id', '=', root.id).executeTakeFirstOrThrow()
  t.equal(stored.reply_count, 1)
})
