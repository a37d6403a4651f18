import t from 'tap'
import { loadReactionList, parseReactionList } from '../src/reaction-list.js'
import { build } from './helper.js'

t.test('GET /emoji/: public, the list of reaction_list.json, strong ETag, public caching', async (t) => {
  const { app } = await build(t)
  const expected = loadReactionList()
  for (const url of ['/emoji/', '/emoji']) {
    const response = await app.inject({ method: 'GET', url })
    t.equal(response.statusCode, 200, `${url} without a token`)
    t.match(response.headers['content-type'], /^application\/json/)
    t.same(response.json(), expected.entries, url)
    t.equal(response.headers.etag, expected.etag)
    t.match(response.headers.etag, /^"[^"]+"$/, 'strong: no W/ prefix')
    t.equal(response.headers['cache-control'], 'public, max-age=3600')
  }
  t.same(
    (await app.inject('/emoji/')).json().map((entry: { name: string; emoji: string }) => `${entry.name} ${entry.emoji}`),
    ['like 👍', 'love ❤️', 'laugh 😂', 'wow 😮', 'sad 😢', 'angry 😠']
  )
  const withToken = await app.inject({ method: 'GET', url: '/emoji/', headers: { authorization: 'Bearer not-even-a-token' } })
  t.equal(withToken.statusCode, 200, 'a token, even a bad one, is not looked at')
})

t.test('GET /emoji/: If-None-Match with the ETag gives 304 with no body', async (t) => {
  const { app } = await build(t)
  const { etag } = loadReactionList()
  for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const response = await app.inject({ method: 'GET', url: '/emoji/', headers: { 'if-none-match': ifNoneMatch } })
    t.equal(response.statusCode, 304, ifNoneMatch)
    t.equal(response.body, '')
    t.equal(response.headers.etag, etag, 'a 304 repeats the ETag')
    t.equal(response.headers['cache-control'], 'public, max-age=3600', 'and the caching rule')
  }
  for (const ifNoneMatch of ['"other"', etag.replaceAll('"', ''), '']) {
    const response = await app.inject({ method: 'GET', url: '/emoji', headers: { 'if-none-match': ifNoneMatch } })
    t.equal(response.statusCode, 200, `not matching: ${JSON.stringify(ifNoneMatch)}`)
    t.equal(response.json().length, 6)
  }
})

t.test('GET /emoji/ is not rate limited, even with a tight per-user limit', async (t) => {
  const { app } = await build(t, { userRps: 1 })
  const statuses = new Set<number>()
  for (let index = 0; index < 10; index++) statuses.add((await app.inject('/emoji/')).statusCode)
  t.same([...statuses], [200])
})

t.test('one list, one truth: another list changes validation, /emoji/, the allowed names and the OpenAPI enum together', async (t) => {
  const reactionList = parseReactionList(
    JSON.stringify([
      { name: 'up', emoji: '⬆️', label: 'Up' },
      { name: 'down', emoji: '⬇️', label: 'Down' }
    ]),
    'custom.json'
  )
  const { app, createUser, createRoom, createMessage, react } = await build(t, { reactionList })
  const ada = await createUser('Ada')
  const roomId = await createRoom(ada)
  const messageId = await createMessage(ada, roomId)
  const like = await react(ada, messageId, { reaction: 'like' })
  t.equal(like.statusCode, 400)
  t.same(like.json().allowed, ['up', 'down'])
  t.equal((await react(ada, messageId, { reaction: 'down' })).statusCode, 201)
  const emoji = await app.inject('/emoji/')
  t.same(emoji.json(), reactionList.entries)
  t.equal(emoji.headers.etag, reactionList.etag)
  t.not(reactionList.etag, loadReactionList().etag)
  const document = (await app.inject('/docs/json')).json()
  const body = document.paths['/messages/{message_id}/reaction']?.post?.requestBody?.content?.['application/json']?.schema
  t.same(body?.properties?.reaction?.enum, ['up', 'down'])
})
