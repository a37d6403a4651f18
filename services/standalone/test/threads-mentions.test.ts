// Replies, threads and mentions on PGlite: migration 0003's SQL (the send
// batch function, chat_mentioned_users) must run on the embedded engine too.
import t from 'tap'
import { standalone } from './helper.js'

interface Sent {
  id: string
  seq: number
  reply_to: string | null
  reply_count: number
  last_reply_at: string | null
  mentions: Array<{ id: string; display_name: string }>
  text: string
  created_at: string
}

t.test('on PGlite: a reply with mentions over /ws/ and HTTP, the thread listing, unread_mentions and the mention frame', async (t) => {
  const { app } = await standalone(t)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const register = async (name: string) => {
    const session = (await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: name, password: 'long enough' } })).json()
    return { id: session.user.id as string, token: session.access_token as string, headers: { authorization: `Bearer ${session.access_token}` } }
  }
  const ada = await register('Ada')
  const adam = await register('Adam')
  const bob = await register('Bob Marley')
  await register('Eve')
  const roomId = (await app.inject({ method: 'POST', url: '/chatrooms/', headers: ada.headers, payload: { name: 'Threads', participants_display_names: ['Adam', 'Bob Marley'] } })).json().id as string
  const other = (await app.inject({ method: 'POST', url: '/chatrooms/', headers: ada.headers, payload: { name: 'Other' } })).json().id as string
  const send = (user: { headers: Record<string, string> }, room: string, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: `/messages/${room}/`, headers: user.headers, payload })

  // Bob's /ws/ socket subscribes to nothing.
  const { WebSocket } = await import('ws')
  const socket = new WebSocket(`${address.replace('http', 'ws')}/ws/`, ['bearer', bob.token])
  t.teardown(() => socket.terminate())
  const frames: Array<Record<string, unknown>> = []
  socket.on('message', (data) => frames.push(JSON.parse((data as Buffer).toString('utf8'))))
  await new Promise((resolve) => socket.once('open', resolve))
  socket.send(JSON.stringify({ type: 'ping', ref: 'ready' }))
  const arrived = async (test: (frame: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + 5000
    for (;;) {
      const found = frames.find(test)
      if (found) return found
      if (Date.now() > deadline) throw new Error(`no such frame; got ${JSON.stringify(frames)}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  await arrived((frame) => frame.type === 'pong')

  const root = (await send(ada, roomId, { text: 'root' })).json<Sent>()
  const reply = await send(adam, roomId, { text: 'thoughts, @ada and @"bob marley"? cc @Eve', reply_to: root.id })
  t.equal(reply.statusCode, 201)
  t.match(reply.json<Sent>(), { reply_to: root.id, mentions: [{ id: ada.id }, { id: bob.id }] }, 'Eve is no participant; longest match and quotes work')
  const longest = (await send(bob, roomId, { text: '@Adam!', reply_to: reply.json<Sent>().id })).json<Sent>()
  t.same(longest.mentions.map((user) => user.display_name), ['Adam'], 'the longest name, not Ada')
  t.equal(longest.reply_to, root.id, 'a reply to a reply joins the root\'s thread')
  t.equal((await send(ada, roomId, { text: 'x', reply_to: (await send(ada, other, { text: 'elsewhere' })).json<Sent>().id })).json().code, 'reply_to_not_found')

  t.match(await arrived((frame) => frame.type === 'mention'), { type: 'mention', room_id: roomId, message: { id: reply.json<Sent>().id } }, 'the mention reaches an unsubscribed /ws/ socket')
  const thread = await app.inject({ method: 'GET', url: `/messages/${roomId}/${root.id}/thread/?limit=1`, headers: bob.headers })
  t.same(thread.json<Sent[]>().map((message) => message.text), ['@Adam!'])
  t.match(thread.headers.link, `</messages/${roomId}/${root.id}/thread/?before_seq=`)
  const listed = (await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bob.headers })).json<Sent[]>()
  t.match(listed[0], { id: root.id, reply_count: 2, last_reply_at: longest.created_at })

  const rooms = (await app.inject({ method: 'GET', url: '/chatrooms/', headers: ada.headers })).json<Array<{ id: string; unread_mentions: number }>>()
  t.equal(rooms.find((room) => room.id === roomId)?.unread_mentions, 1)
  const read = await app.inject({ method: 'PUT', url: `/chatrooms/${roomId}/read/`, headers: ada.headers, payload: { seq: 999 } })
  t.equal(read.json().unread_mentions, 0)

  const edited = await app.inject({ method: 'PATCH', url: `/messages/${roomId}/${longest.id}/`, headers: bob.headers, payload: { text: '@Adam and @Ada' } })
  t.same(edited.json<Sent>().mentions.map((user) => user.display_name), ['Ada', 'Adam'], 'an edit reads mentions again on PGlite')
})
