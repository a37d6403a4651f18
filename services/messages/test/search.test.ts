import t from 'tap'
import { CompiledQuery, sql, type KyselyPlugin, type RootOperationNode } from 'kysely'
import type { SearchHit } from '@chat/contracts'
import { findHits, toSearchQuery } from '../src/search.repository.js'
import { bearer, build, type Harness, type TestUser } from './helper.js'

function search(harness: Harness, user: TestUser, query: Record<string, string | number>) {
  const url = `/search/messages/?${new URLSearchParams(Object.entries(query).map(([name, value]): [string, string] => [name, String(value)])).toString()}`
  return harness.app.inject({ method: 'GET', url, headers: bearer(user) })
}

async function hitsOf(harness: Harness, user: TestUser, query: Record<string, string | number>): Promise<SearchHit[]> {
  const response = await search(harness, user, query)
  if (response.statusCode !== 200) throw new Error(`search ${JSON.stringify(query)}: ${response.statusCode} ${response.body}`)
  return response.json<SearchHit[]>()
}

async function sendText(harness: Harness, user: TestUser, roomId: string, text: string): Promise<string> {
  const response = await harness.send(user, roomId, { text })
  if (response.statusCode !== 201) throw new Error(`send: ${response.statusCode} ${response.body}`)
  return response.json<{ id: string }>().id
}

/** The marked parts of a hit's highlight. */
const marked = (hit: SearchHit | undefined) => hit?.highlight.marks.map((mark) => hit.highlight.text.slice(mark.start, mark.end)) ?? []

t.test('every word must occur, the last as a prefix; newest first; each hit with its room and marks', async (t) => {
  const harness = await build(t)
  const ada = await harness.createUser('Ada')
  const bob = await harness.createUser('Bob')
  const roomId = await harness.createRoom(ada, [bob], 'Tea')
  const fox = await sendText(harness, ada, roomId, 'The quick brown fox')
  const foxes = await sendText(harness, bob, roomId, 'Foxes are QUICK <b>indeed</b>')
  await sendText(harness, ada, roomId, 'nothing to see')

  const quick = await hitsOf(harness, ada, { q: 'quick' })
  t.same(quick.map((hit) => hit.message.id), [foxes, fox], 'newest first, case-insensitive')
  t.same(quick[0]?.room, { id: roomId, kind: 'group', name: 'Tea' })
  t.match(quick[0]?.message, { id: foxes, room_id: roomId, text: 'Foxes are QUICK <b>indeed</b>', sender: { id: bob.id, display_name: 'Bob' }, deleted: false })
  t.same(marked(quick[0]), ['QUICK'], 'the match is marked, as written')
  t.equal(quick[0]?.highlight.text, 'Foxes are QUICK <b>indeed</b>', 'markup in the text is kept as text')

  t.same((await hitsOf(harness, ada, { q: 'qui' })).map((hit) => hit.message.id), [foxes, fox], 'the last word is a prefix')
  t.same(marked((await hitsOf(harness, ada, { q: 'qui' }))[1]), ['quick'], 'prefix matches are marked')
  t.same((await hitsOf(harness, ada, { q: 'brown fo' })).map((hit) => hit.message.id), [fox], 'every word')
  t.same((await hitsOf(harness, ada, { q: 'fox quick' })).map((hit) => hit.message.id), [fox], 'earlier words whole: "foxes" is not "fox"')
  t.same(await hitsOf(harness, ada, { q: 'qui brown' }), [], 'only the last word is a prefix')
  t.same(await hitsOf(harness, ada, { q: 'zebra' }), [], 'no match: an empty list')
  t.same((await hitsOf(harness, ada, { q: '  Quick,  brown!! ' })).map((hit) => hit.message.id), [fox], 'punctuation and spaces are not words')
})

t.test("language-neutral: no stemming, no stop words, any script", async (t) => {
  const harness = await build(t)
  const ada = await harness.createUser('Ada')
  const roomId = await harness.createRoom(ada)
  const german = await sendText(harness, ada, roomId, 'Die Bücher sind da')
  const english = await sendText(harness, ada, roomId, 'the runner was running')
  const russian = await sendText(harness, ada, roomId, 'Привет, мир')
  t.same((await hitsOf(harness, ada, { q: 'BÜCHER' })).map((hit) => hit.message.id), [german])
  t.same((await hitsOf(harness, ada, { q: 'the' })).map((hit) => hit.message.id), [english], '"the" is a word like any other')
  t.same((await hitsOf(harness, ada, { q: 'runner wa' })).map((hit) => hit.message.id), [english])
  t.same(await hitsOf(harness, ada, { q: 'run the' }), [], 'run is not runner or running: no stemming')
  t.same((await hitsOf(harness, ada, { q: 'прив' })).map((hit) => hit.message.id), [russian])
})

t.test('only rooms the caller belongs to now; room_id narrows, with 404 and 403', async (t) => {
  const harness = await build(t)
  const { db } = harness
  const ada = await harness.createUser('Ada')
  const bob = await harness.createUser('Bob')
  const eve = await harness.createUser('Eve')
  const shared = await harness.createRoom(ada, [bob], 'Shared')
  const other = await harness.createRoom(ada, [], 'Other')
  const evesRoom = await harness.createRoom(eve, [], 'Secret')
  const inShared = await sendText(harness, ada, shared, 'launch plan')
  const inOther = await sendText(harness, ada, other, 'launch party')
  await sendText(harness, eve, evesRoom, 'launch secrets')

  t.same((await hitsOf(harness, ada, { q: 'launch' })).map((hit) => hit.message.id), [inOther, inShared], "Eve's room is not searched")
  t.same((await hitsOf(harness, bob, { q: 'launch' })).map((hit) => hit.message.id), [inShared])
  t.same((await hitsOf(harness, ada, { q: 'launch', room_id: shared })).map((hit) => hit.message.id), [inShared], 'room_id narrows')

  const outsider = await search(harness, ada, { q: 'launch', room_id: evesRoom })
  t.equal(outsider.statusCode, 403)
  t.equal(outsider.json().code, 'not_a_member')
  const missing = await search(harness, ada, { q: 'launch', room_id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'room_not_found')

  // Bob leaves: what he read there is no longer his to search.
  await db.deleteFrom('room_participants').where('room_id', '=', shared).where('user_id', '=', bob.id).execute()
  t.same(await hitsOf(harness, bob, { q: 'launch' }), [], 'a user who left loses the room')
  t.equal((await search(harness, bob, { q: 'launch', room_id: shared })).statusCode, 403)
})

t.test('an edit re-indexes the message, a deletion takes it out', async (t) => {
  const harness = await build(t)
  const ada = await harness.createUser('Ada')
  const roomId = await harness.createRoom(ada)
  const id = await sendText(harness, ada, roomId, 'meet at noon')
  const edit = await harness.app.inject({ method: 'PATCH', url: `/messages/${roomId}/${id}/`, headers: bearer(ada), payload: { text: 'meet at dusk' } })
  t.equal(edit.statusCode, 200)
  t.same(await hitsOf(harness, ada, { q: 'noon' }), [], 'the old word is gone')
  const [hit] = await hitsOf(harness, ada, { q: 'dusk' })
  t.match(hit?.message, { id, text: 'meet at dusk', edited_at: String })
  const removal = await harness.app.inject({ method: 'DELETE', url: `/messages/${roomId}/${id}/`, headers: bearer(ada) })
  t.equal(removal.statusCode, 204)
  t.same(await hitsOf(harness, ada, { q: 'meet' }), [], 'a deleted message is not found')
})

t.test('a direct room hit is named after the other participant; reactions come with the message', async (t) => {
  const harness = await build(t)
  const { db } = harness
  const ada = await harness.createUser('Ada')
  const bob = await harness.createUser('Bob')
  const [low, high] = [ada.id, bob.id].sort()
  const room = await db
    .insertInto('rooms')
    .values({ name: '', created_by: ada.id, kind: 'direct', direct_user_low: low!, direct_user_high: high! })
    .returning('id')
    .executeTakeFirstOrThrow()
  await db.insertInto('room_participants').values([ada, bob].map((user) => ({ room_id: room.id, user_id: user.id, role: 'member' as const }))).execute()
  const id = await sendText(harness, bob, room.id, 'psst, secret handshake')
  await db.insertInto('reactions').values({ message_id: id, user_id: ada.id, reaction: 'like', updated_at: new Date() }).execute()
  const [forAda] = await hitsOf(harness, ada, { q: 'handshake' })
  t.same(forAda?.room, { id: room.id, kind: 'direct', name: 'Bob' })
  t.match(forAda?.message, { reactions: { like: 1 }, my_reaction: 'like' })
  const [forBob] = await hitsOf(harness, bob, { q: 'handshake' })
  t.same(forBob?.room, { id: room.id, kind: 'direct', name: 'Ada' })
  t.match(forBob?.message, { my_reaction: null })
})

t.test('highlights: a piece of a long text, marks as UTF-16 offsets, the mark characters themselves taken out', async (t) => {
  const harness = await build(t)
  const ada = await harness.createUser('Ada')
  const roomId = await harness.createRoom(ada)
  const long = `${Array.from({ length: 80 }, (_, index) => `word${index}`).join(' ')} needle ${Array.from({ length: 80 }, (_, index) => `tail${index}`).join(' ')}`
  await sendText(harness, ada, roomId, long)
  const [hit] = await hitsOf(harness, ada, { q: 'needle' })
  t.ok(hit && hit.highlight.text.length < long.length / 2, 'a piece, not the whole text')
  t.same(marked(hit), ['needle'])
  await sendText(harness, ada, roomId, '😀 emoji \uE000first\uE001 then')
  const [emoji] = await hitsOf(harness, ada, { q: 'then' })
  t.same(marked(emoji), ['then'], 'offsets count UTF-16 units (the emoji is two)')
  t.notMatch(emoji?.highlight.text ?? '', /[\uE000\uE001]/, 'no stray mark characters')
})

t.test('paging: limit, a Link to the next page with before, no repeats, the last page without a Link', async (t) => {
  const harness = await build(t)
  const ada = await harness.createUser('Ada')
  const roomId = await harness.createRoom(ada)
  const ids: string[] = []
  for (let index = 0; index < 5; index++) ids.push(await sendText(harness, ada, roomId, `report ${index}`))
  await sendText(harness, ada, roomId, 'unrelated')
  const seen: string[] = []
  let url: string | undefined = `/search/messages/?q=report&limit=2&room_id=${roomId}`
  let pages = 0
  while (url) {
    const response = await harness.app.inject({ method: 'GET', url, headers: bearer(ada) })
    t.equal(response.statusCode, 200, url)
    seen.push(...response.json<SearchHit[]>().map((hit) => hit.message.id))
    const link = response.headers.link as string | undefined
    url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined
    if (url) t.match(url, /[?&]q=report&limit=2&room_id=[0-9a-f-]+&before=[0-9a-f-]{36}$/)
    pages += 1
  }
  t.equal(pages, 3, '2 + 2 + 1')
  t.same(seen, [...ids].reverse(), 'every hit once, newest first')
  t.equal((await hitsOf(harness, ada, { q: 'report' })).length, 5, 'the default limit holds them all')
})

t.test('bad queries are 400 problem details; no token is 401', async (t) => {
  const harness = await build(t)
  const ada = await harness.createUser('Ada')
  const cases: Array<[string, Record<string, string | number>, string]> = [
    ['no q', {}, '/q'],
    ['empty q', { q: '' }, '/q'],
    ['blank q', { q: '   ' }, '/q'],
    ['q over 200 characters', { q: 'x'.repeat(201) }, '/q'],
    ['q without a word', { q: '!!! ...' }, '/q'],
    ['NUL in q', { q: 'a\u0000b' }, '/q'],
    ['limit 0', { q: 'x', limit: 0 }, '/limit'],
    ['limit 101', { q: 'x', limit: 101 }, '/limit'],
    ['room_id not a uuid', { q: 'x', room_id: 'general' }, '/room_id'],
    ['before not a uuid', { q: 'x', before: '12' }, '/before'],
    ['an unknown parameter', { q: 'x', sort: 'old' }, '']
  ]
  for (const [label, query, path] of cases) {
    const response = await search(harness, ada, query)
    t.equal(response.statusCode, 400, label)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', label)
    if (path) t.ok(response.json().errors?.some((issue: { path: string }) => issue.path === path), `${label} at ${path}: ${response.body}`)
  }
  t.equal((await search(harness, ada, { q: 'x'.repeat(200) })).statusCode, 200, '200 characters are fine')
  t.equal((await harness.app.inject({ method: 'GET', url: '/search/messages/?q=x' })).statusCode, 401)
})

// Whether the planner picks the GIN index depends on statistics a test's
// table cannot have (it estimates a prefix poorly, and a small table is cheap
// to walk); what a test can hold fixed is that a large room's branch asks
// with `@@` on `search_vector`, which the index serves, and a small room's
// with the function no index serves, each behind its one-time filter.
t.test("the search's statement: a large room through the GIN index's operator, a small one walked", async (t) => {
  const harness = await build(t)
  const { db } = harness
  const ada = await harness.createUser('Ada')
  const roomId = await harness.createRoom(ada)
  await sql`
    insert into messages (id, room_id, seq, sender_id, text)
    select gen_random_uuid(), ${roomId}::uuid, n, ${ada.id}::uuid, 'message number ' || n || case when n % 6000 = 0 then ' rarity' else '' end
    from generate_series(1, 6000) as n`.execute(db)
  await sql`update rooms set last_seq = 6000 where id = ${roomId}::uuid`.execute(db)
  await sql`analyze messages`.execute(db)
  // The statements findHits sends, as they are sent, then EXPLAINed.
  const statements: RootOperationNode[] = []
  const recorder: KyselyPlugin = { transformQuery: (args) => (statements.push(args.node), args.node), transformResult: async (args) => args.result }
  const query = (await toSearchQuery(db, 'rarity'))!
  const { hits } = await findHits(db.withPlugin(recorder), { viewerId: ada.id, query, limit: 20 })
  t.same(hits.map((hit) => hit.message.text), ['message number 6000 rarity'])
  const compiled = db.getExecutor().compileQuery(statements[0]!, { queryId: 'explain' })
  const plan = await db.executeQuery<Record<string, string>>(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]))
  const text = plan.rows.map((row) => Object.values(row)[0]).join('\n')
  t.match(text, /One-Time Filter: \(rooms\.last_seq > '5000'::bigint\)[\s\S]*search_vector @@ '''rarity'':\*'::tsquery/, 'a large room: the indexable operator')
  t.match(text, /One-Time Filter: \(rooms\.last_seq <= '5000'::bigint\)[\s\S]*ts_match_vq\(/, 'a small room: walked')
  const index = await sql<{ indexdef: string }>`select indexdef from pg_indexes where indexname = 'messages_search_vector_idx'`.execute(db)
  t.match(index.rows[0]?.indexdef, /USING gin \(search_vector\)/, 'the GIN index on the same column')
})

t.test('a common word reads a page of each room, not every match; a rare one still finds its few', async (t) => {
  const harness = await build(t)
  const { db } = harness
  const ada = await harness.createUser('Ada')
  const rooms = [await harness.createRoom(ada, [], 'one'), await harness.createRoom(ada, [], 'two')]
  for (const roomId of rooms) {
    await sql`
      insert into messages (id, room_id, seq, sender_id, text)
      select gen_random_uuid(), ${roomId}::uuid, n, ${ada.id}::uuid, 'message number ' || n || case when n % 2500 = 0 then ' rarity' else '' end
      from generate_series(1, 2500) as n`.execute(db)
    await sql`update rooms set last_seq = 2500 where id = ${roomId}::uuid`.execute(db)
  }
  await sql`analyze messages`.execute(db)
  const statements: RootOperationNode[] = []
  const recorder: KyselyPlugin = { transformQuery: (args) => (statements.push(args.node), args.node), transformResult: async (args) => args.result }
  const common = (await toSearchQuery(db, 'message'))!
  const { hits, more } = await findHits(db.withPlugin(recorder), { viewerId: ada.id, query: common, limit: 20 })
  t.equal(hits.length, 20)
  t.ok(more)
  // Newest first across both rooms (ids are random here, so by id, as the page is ordered).
  t.same(hits.map((hit) => hit.message.id), [...hits.map((hit) => hit.message.id)].sort().reverse())
  const compiled = db.getExecutor().compileQuery(statements[0]!, { queryId: 'explain' })
  const plan = await db.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(CompiledQuery.raw(`explain (analyze, format json) ${compiled.sql}`, [...compiled.parameters]))
  const read = rowsReadFrom(plan.rows[0]!['QUERY PLAN'][0]!.Plan, 'messages')
  t.ok(read <= 2 * (20 + 1 + 16), `${read} rows of messages read for 5000 matches`)

  const short = (await toSearchQuery(db, 'ra'))!
  const found = await findHits(db, { viewerId: ada.id, query: short, limit: 20 })
  t.same(found.hits.map((hit) => hit.message.text).sort(), ['message number 2500 rarity', 'message number 2500 rarity'], 'a rare prefix finds its words in both rooms')
})

interface PlanNode {
  'Relation Name'?: string
  'Actual Rows'?: number
  'Actual Loops'?: number
  'Rows Removed by Filter'?: number
  Plans?: PlanNode[]
}

/** The rows a plan's scans of `table` looked at (kept and filtered out), over all loops. */
function rowsReadFrom(node: PlanNode, table: string): number {
  const own = node['Relation Name'] === table ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * (node['Actual Loops'] ?? 1) : 0
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsReadFrom(child, table), 0)
}

