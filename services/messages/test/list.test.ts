import t from 'tap'
import type { Message } from '@chat/contracts'
import { bearer, build, type Harness, type TestUser } from './helper.js'

async function sendMany(harness: Harness, user: TestUser, roomId: string, count: number): Promise<Message[]> {
  const sent: Message[] = []
  for (let index = 1; index <= count; index++) sent.push((await harness.send(user, roomId, { text: `m${index}` })).json<Message>())
  return sent
}

function links(header: string | string[] | number | undefined): Record<string, string> {
  const result: Record<string, string> = {}
  for (const part of String(header ?? '').split(',')) {
    const match = /<([^>]+)>;\s*rel="(\w+)"/.exec(part.trim())
    if (match) result[match[2]!] = match[1]!
  }
  return result
}

t.test('the latest `limit` messages in ascending seq, with Link headers to page through', async (t) => {
  const harness = await build(t)
  const { app, createUser, createRoom } = harness
  const ada = await createUser()
  const roomId = await createRoom(ada)
  await sendMany(harness, ada, roomId, 7)
  const get = (url: string) => app.inject({ method: 'GET', url, headers: bearer(ada) })

  const all = await get(`/messages/${roomId}/`)
  t.equal(all.statusCode, 200)
  t.same(all.json().map((message: Message) => message.seq), [1, 2, 3, 4, 5, 6, 7], 'default limit 50 gives all')
  t.equal(all.headers.link, undefined, 'nothing older, nothing newer')

  const latest = await get(`/messages/${roomId}/?limit=3`)
  t.same(latest.json().map((message: Message) => message.text), ['m5', 'm6', 'm7'])
  t.same(links(latest.headers.link), { prev: `/messages/${roomId}/?before_seq=5&limit=3` })

  const older = await get(links(latest.headers.link).prev!)
  t.same(older.json().map((message: Message) => message.seq), [2, 3, 4])
  t.same(links(older.headers.link), {
    prev: `/messages/${roomId}/?before_seq=2&limit=3`,
    next: `/messages/${roomId}/?after_seq=4&limit=3`
  })
  const oldest = await get(links(older.headers.link).prev!)
  t.same(oldest.json().map((message: Message) => message.seq), [1])
  t.same(links(oldest.headers.link), { next: `/messages/${roomId}/?after_seq=1&limit=3` })

  const forward = await get(`/messages/${roomId}/?after_seq=1&limit=3`)
  t.same(forward.json().map((message: Message) => message.seq), [2, 3, 4])
  t.same(links(forward.headers.link), {
    prev: `/messages/${roomId}/?before_seq=2&limit=3`,
    next: `/messages/${roomId}/?after_seq=4&limit=3`
  })
  const last = await get(`/messages/${roomId}/?after_seq=4&limit=3`)
  t.same(last.json().map((message: Message) => message.seq), [5, 6, 7])
  t.same(links(last.headers.link), { prev: `/messages/${roomId}/?before_seq=5&limit=3` }, 'no next: nothing newer')
  const fromStart = await get(`/messages/${roomId}?after_seq=0&limit=200`)
  t.equal(fromStart.json().length, 7)
  t.equal(fromStart.headers.link, undefined)
  const beyond = await get(`/messages/${roomId}/?after_seq=7`)
  t.same(beyond.json(), [])
})

t.test('list checks: 401, 404, 403 and bad paging parameters', async (t) => {
  const { app, createUser, createRoom } = await build(t)
  const ada = await createUser()
  const eve = await createUser()
  const roomId = await createRoom(ada)
  t.equal((await app.inject({ method: 'GET', url: `/messages/${roomId}/` })).statusCode, 401)
  const unknown = await app.inject({ method: 'GET', url: '/messages/00000000-0000-4000-8000-000000000000/', headers: bearer(ada) })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'room_not_found')
  const outsider = await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bearer(eve) })
  t.equal(outsider.statusCode, 403)
  t.equal(outsider.json().code, 'not_a_member')
  const malformed = await app.inject({ method: 'GET', url: '/messages/123/', headers: bearer(ada) })
  t.equal(malformed.statusCode, 400)
  for (const query of ['limit=0', 'limit=201', 'limit=x', 'limit=500', 'before_seq=-1', 'after_seq=abc', 'before_seq=5&after_seq=1', 'page=2']) {
    const response = await app.inject({ method: 'GET', url: `/messages/${roomId}/?${query}`, headers: bearer(ada) })
    t.equal(response.statusCode, 400, query)
    t.equal(response.json().code, 'validation_failed', query)
    t.ok(response.json().errors.length > 0, `${query}: says what is wrong`)
  }
  const both = await app.inject({ method: 'GET', url: `/messages/${roomId}/?before_seq=5&after_seq=1`, headers: bearer(ada) })
  t.same(both.json().errors, [{ path: '/before_seq', message: 'cannot be combined with after_seq' }])
})

t.test('reaction counts and the caller\'s own reaction, per message', async (t) => {
  const harness = await build(t)
  const { app, db, createUser, createRoom } = harness
  const ada = await createUser()
  const bob = await createUser()
  const cy = await createUser()
  const roomId = await createRoom(ada, [bob, cy])
  const [first, second, third] = await sendMany(harness, ada, roomId, 3)
  await db
    .insertInto('reactions')
    .values([
      { message_id: first!.id, user_id: ada.id, reaction: 'like', updated_at: new Date() },
      { message_id: first!.id, user_id: bob.id, reaction: 'like', updated_at: new Date() },
      { message_id: first!.id, user_id: cy.id, reaction: 'laugh', updated_at: new Date() },
      { message_id: second!.id, user_id: bob.id, reaction: 'love', updated_at: new Date() }
    ])
    .execute()
  const asAda = (await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bearer(ada) })).json<Message[]>()
  t.same(asAda.map((message) => message.reactions), [{ like: 2, laugh: 1 }, { love: 1 }, {}])
  t.same(asAda.map((message) => message.my_reaction), ['like', null, null])
  const asCy = (await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bearer(cy) })).json<Message[]>()
  t.same(asCy.map((message) => message.my_reaction), ['laugh', null, null])
  const asBob = (await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bearer(bob) })).json<Message[]>()
  t.same(asBob.map((message) => message.my_reaction), ['like', 'love', null])
  t.equal(asBob[2]?.id, third!.id)
  const repeat = await harness.send(ada, roomId, { text: 'again' })
  t.same(repeat.json().reactions, {})
})

t.test('deleted messages stay in place as tombstones', async (t) => {
  const harness = await build(t)
  const { app, db, createUser, createRoom } = harness
  const ada = await createUser()
  const bob = await createUser()
  const roomId = await createRoom(ada, [bob])
  const [, doomed] = await sendMany(harness, ada, roomId, 3)
  await db.insertInto('reactions').values({ message_id: doomed!.id, user_id: bob.id, reaction: 'sad', updated_at: new Date() }).execute()
  const deleted = await app.inject({ method: 'DELETE', url: `/messages/${roomId}/${doomed!.id}/`, headers: bearer(ada) })
  t.equal(deleted.statusCode, 204)
  const list = (await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bearer(bob) })).json<Message[]>()
  t.same(list.map((message) => message.seq), [1, 2, 3], 'the message keeps its place')
  t.same(list[1], { ...doomed, text: '', deleted: true, reactions: {}, my_reaction: null })
  t.equal(list[0]?.deleted, false)
  const row = await db.selectFrom('messages').select(['text', 'deleted_at']).where('id', '=', doomed!.id).executeTakeFirstOrThrow()
  t.equal(row.text, '', 'the text is gone from the database too')
  t.type(row.deleted_at, Date)
})
