import t from 'tap'
import sharp from 'sharp'
import { multipartFile } from '@chat/service-kit/testing'
import { standalone } from './helper.js'


t.test('the standalone app serves identity on PGlite with the in-process bus', async (t) => {
  const { app } = await standalone(t)
  const registered = await app.inject({ method: 'POST', url: '/auth/register/', payload: { display_name: 'Solo', password: 'long enough' } })
  t.equal(registered.statusCode, 201)
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'solo', password: 'long enough' } })
  t.equal(login.statusCode, 200)
  const headers = { authorization: `Bearer ${login.json().access_token}` }
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers })).json().display_name, 'Solo')
  t.equal((await app.inject({ method: 'GET', url: '/users/?search=so', headers })).json().length, 1)
  t.equal((await app.inject('/.well-known/jwks.json')).json().keys.length, 1)
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.same(ready.json().checks, { database: 'ok', bus: 'ok' })
  t.equal((await app.inject('/docs/json')).statusCode, 200)
})

t.test('rooms and messages on PGlite: create, avatar bytes round trip, send, events on the in-process bus', async (t) => {
  const { app, bus } = await standalone(t)
  const frames: Array<{ type: string; seq: number }> = []
  await bus.subscribe('chat.room.>', (message) => { frames.push(JSON.parse(Buffer.from(message.data).toString())) })
  const register = async (name: string) =>
    (await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: name, password: 'long enough' } })).json().access_token as string
  const ada = { authorization: `Bearer ${await register('Ada')}` }
  await register('Bob')
  const created = await app.inject({ method: 'POST', url: '/chatrooms/', headers: ada, payload: { name: 'Standalone', participants_display_names: ['bob'] } })
  t.equal(created.statusCode, 201)
  const roomId = created.json().id as string
  const png = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#336699' } }).png().toBuffer()
  const form = multipartFile('avatar', 'a.png', 'image/png', png)
  const uploaded = await app.inject({ method: 'PATCH', url: `/chatrooms/${roomId}/avatar/`, headers: { ...ada, ...form.headers }, payload: form.payload })
  t.equal(uploaded.statusCode, 200)
  const fetched = await app.inject({ method: 'GET', url: `/chatrooms/${roomId}/avatar/`, headers: ada })
  t.equal(fetched.statusCode, 200)
  t.equal(fetched.rawPayload.length, uploaded.json().size, 'bytea round trip on PGlite')
  t.same((await sharp(fetched.rawPayload).metadata()).width, 512)
  const sent = await app.inject({ method: 'POST', url: `/messages/${roomId}/`, headers: ada, payload: { text: ' hello <b>PGlite</b> ', client_msg_id: 'c1' } })
  t.equal(sent.statusCode, 201)
  t.match(sent.json(), { seq: 3, text: ' hello <b>PGlite</b> ', client_msg_id: 'c1', deleted: false })
  const repeat = await app.inject({ method: 'POST', url: `/messages/${roomId}/`, headers: ada, payload: { text: ' hello <b>PGlite</b> ', client_msg_id: 'c1' } })
  t.equal(repeat.statusCode, 200, 'idempotent on PGlite too')
  const history = await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: ada })
  t.same(history.json().map((message: { seq: number }) => message.seq), [3])
  const listed = await app.inject({ method: 'GET', url: '/chatrooms/', headers: ada })
  t.equal(listed.json()[0].last_seq, 3)
  const deadline = Date.now() + 2000
  while (frames.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(frames.map((frame) => [frame.type, frame.seq]), [['participants.added', 1], ['room.updated', 2], ['message.created', 3]])
})

t.test('reactions, /emoji/ and sockets on one port: a message over /ws/ is acknowledged and a reaction arrives live', async (t) => {
  const { app } = await standalone(t)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const emoji = await app.inject('/emoji/')
  t.equal(emoji.statusCode, 200)
  t.same(emoji.json().map((entry: { name: string }) => entry.name), ['like', 'love', 'laugh', 'wow', 'sad', 'angry'])
  const token = (await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: 'Ada', password: 'long enough' } })).json().access_token as string
  const headers = { authorization: `Bearer ${token}` }
  const roomId = (await app.inject({ method: 'POST', url: '/chatrooms/', headers, payload: { name: 'Live' } })).json().id as string

  const { WebSocket } = await import('ws')
  const socket = new WebSocket(`${address.replace('http', 'ws')}/ws/`, ['bearer', token])
  t.teardown(() => socket.terminate())
  const frames: Array<Record<string, unknown>> = []
  const arrived = (test: (frame: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const check = (): void => {
        const found = frames.find(test)
        if (found) resolve(found)
        else setTimeout(check, 10)
      }
      check()
    })
  socket.on('message', (data) => frames.push(JSON.parse((data as Buffer).toString('utf8'))))
  await new Promise((resolve) => socket.once('open', resolve))
  socket.send(JSON.stringify({ type: 'subscribe', room_id: roomId }))
  t.match(await arrived((frame) => frame.type === 'subscribed'), { room_id: roomId, last_seq: 0 })
  socket.send(JSON.stringify({ type: 'message', room_id: roomId, text: 'hello', ref: 'r1' }))
  const ack = (await arrived((frame) => frame.type === 'ack')) as { message: { id: string; seq: number } }
  t.equal(ack.message.seq, 1)
  const reacted = await app.inject({ method: 'POST', url: `/messages/${ack.message.id}/reaction/`, headers, payload: { reaction: 'like' } })
  t.equal(reacted.statusCode, 201)
  t.match(await arrived((frame) => frame.type === 'reaction.updated'), { seq: 2, message_id: ack.message.id, reaction: 'like', reactions: { like: 1 } })
  t.same(frames.filter((frame) => 'seq' in frame).map((frame) => frame.seq), [1, 2])
})
