import t from 'tap'
import { bearer, build, settle } from './helper.js'

const unknownRoom = '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f'

t.test('numbers too large for a seq are 400s, never database errors', async (t) => {
  const { app, createUser, createRoom } = await build(t)
  const ada = await createUser('Ada')
  const roomId = await createRoom(ada)
  for (const query of ['before_seq=1e30', 'after_seq=1e19', 'after_seq=9007199254740993', 'before_seq=-1', 'limit=1e3', 'after_seq=1.5']) {
    const response = await app.inject({ method: 'GET', url: `/messages/${roomId}/?${query}`, headers: bearer(ada) })
    t.equal(response.statusCode, 400, query)
    t.equal(response.json().code, 'validation_failed', query)
  }
  const largest = await app.inject({ method: 'GET', url: `/messages/${roomId}/?after_seq=${Number.MAX_SAFE_INTEGER}`, headers: bearer(ada) })
  t.equal(largest.statusCode, 200, 'the largest safe integer is a valid cursor')
})

t.test('text that cannot be stored as sent is a 400: NUL, lone surrogates', async (t) => {
  const { app, createUser, createRoom, send, events } = await build(t)
  const ada = await createUser('Ada')
  const roomId = await createRoom(ada)
  for (const [label, body] of [
    ['NUL', { text: 'a\u0000b' }],
    ['lone high surrogate', { text: 'a\ud800b' }],
    ['lone low surrogate', { text: '\udc00' }],
    ['lone surrogate in client_msg_id', { text: 'fine', client_msg_id: 'x\ud800' }]
  ] as const) {
    const response = await send(ada, roomId, body)
    t.equal(response.statusCode, 400, label)
    t.equal(response.json().code, 'validation_failed', label)
  }
  const emoji = await send(ada, roomId, { text: 'paired surrogates are fine 😀' })
  t.equal(emoji.statusCode, 201)
  const edited = await app.inject({ method: 'PATCH', url: `/messages/${roomId}/${emoji.json().id}/`, headers: bearer(ada), payload: { text: 'x\ud800' } })
  t.equal(edited.statusCode, 400, 'edit too')
  await settle()
  t.equal(events.length, 1, 'only the good send made an event')
})

t.test("api.md's order: 404 and 403 come before the operation's own rules", async (t) => {
  const { app, createUser, createRoom, send } = await build(t)
  const ada = await createUser('Ada')
  const mallory = await createUser('Mallory')
  const roomId = await createRoom(ada)
  t.equal((await send(ada, unknownRoom, { text: '   ' })).statusCode, 404, 'blank text to no room: 404')
  t.equal((await send(mallory, roomId, { text: '   ' })).statusCode, 403, 'blank text from an outsider: 403')
  t.equal((await send(ada, roomId, { text: '   ' })).statusCode, 400, 'blank text from a participant: 400')
  const both = await app.inject({ method: 'GET', url: `/messages/${unknownRoom}/?before_seq=1&after_seq=1`, headers: bearer(ada) })
  t.equal(both.statusCode, 404)
})
