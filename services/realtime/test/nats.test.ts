import { fileURLToPath } from 'node:url'
import { test } from 'tap'
import WebSocket from 'ws'
import { createChatClient, type ChatSocket } from '@chat/client'
import { closeCodes, type RoomEventFrame, type Session } from '@chat/contracts'
import { runToExit, startServiceProcess } from '@chat/service-kit/testing'
import { build, connect, natsUrl, range, seqsOf, type Harness, type TestUser } from './helper.js'

const gatewayMain = fileURLToPath(new URL('../dist/main.js', import.meta.url))

function sessionOf(user: TestUser): Session {
  return {
    user: { id: user.id, display_name: user.display_name, created_at: user.created_at },
    access_token: user.token,
    refresh_token: 'unused',
    token_type: 'Bearer',
    expires_in: 900
  }
}

async function sendMany(h: Harness, senders: TestUser[], roomIds: string[], perRoom: number): Promise<void> {
  await Promise.all(
    roomIds.map(async (roomId) => {
      for (let index = 0; index < perRoom; index++) await h.send(senders[index % senders.length]!, roomId, `${roomId.slice(0, 4)} ${index}`)
    })
  )
}

test('two gateways on NATS: every client on either receives every event of its rooms, in seq order', async (t) => {
  const h = await build(t, { transport: 'nats', gateways: 2 })
  const users = [await h.createUser(), await h.createUser(), await h.createUser()]
  const rooms = [await h.createRoom(users[0]!, users.slice(1)), await h.createRoom(users[1]!, [users[0]!, users[2]!]), await h.createRoom(users[2]!, users.slice(0, 2))]
  const sockets = []
  for (const [index, gateway] of h.gateways.entries()) {
    for (const user of users) {
      const socket = connect(t, gateway, '/ws/', user)
      for (const roomId of rooms) socket.send({ type: 'subscribe', room_id: roomId })
      sockets.push(socket)
    }
    const roomSocket = connect(t, gateway, `/ws/chat/${rooms[index]!}/`, users[0])
    sockets.push(roomSocket)
  }
  for (const socket of sockets) await socket.until((frames) => frames.filter((frame) => frame.type === 'subscribed').length === (socket.ws.url.includes('/chat/') ? 1 : 3))
  await sendMany(h, users, rooms, 60)
  for (const socket of sockets) {
    const watched = socket.ws.url.includes('/chat/') ? rooms.filter((roomId) => socket.ws.url.includes(roomId)) : rooms
    await socket.until(() => watched.every((roomId) => seqsOf(socket, roomId).length >= 60), 20_000, 'all events')
    for (const roomId of watched) t.same(seqsOf(socket, roomId), range(1, 60))
  }
  t.ok(h.gateways.every((gateway) => gateway.app.realtime.watchedRooms === 3), 'each gateway subscribed to the 3 rooms its sockets watch')
})

test('a gateway killed mid-stream: its clients reconnect to the other and end with exactly the stored sequence', async (t) => {
  const h = await build(t, { transport: 'nats', gateways: 1 })
  const [ada, bob] = [await h.createUser(), await h.createUser()]
  const roomId = await h.createRoom(ada, [bob])
  const doomed = await startServiceProcess(gatewayMain, {
    DATABASE_URL: h.databaseUrl,
    NATS_URL: natsUrl,
    JWT_PUBLIC_KEY: h.signer.key.publicKeyPem
  })
  t.teardown(() => doomed.child.kill('SIGKILL'))
  const doomedPort = new URL(doomed.baseUrl).port
  const survivor = h.gateways[0]!.url
  let alive = true
  // What a load balancer does: new connections go to a replica that is up.
  class Balanced extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(alive ? String(url) : String(url).replace(`ws://127.0.0.1:${doomedPort}`, survivor), protocols)
    }
  }
  const clients: Array<{ socket: ChatSocket; received: RoomEventFrame[] }> = []
  for (const user of [ada, bob, bob]) {
    const client = createChatClient({ baseUrl: doomed.baseUrl, WebSocket: Balanced, session: sessionOf(user) })
    const socket = client.connect({ reconnect: { baseDelayMs: 20, maxDelayMs: 200 } })
    const received: RoomEventFrame[] = []
    socket.on('event', (frame) => received.push(frame))
    socket.subscribe(roomId, { afterSeq: 0 })
    clients.push({ socket, received })
    t.teardown(() => socket.close())
  }
  const states: string[] = []
  clients[0]!.socket.on('state', (state) => states.push(state))
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (clients.every(({ socket }) => socket.state === 'open')) {
        clearInterval(check)
        resolve()
      }
    }, 20)
  })
  const total = 300
  for (let index = 0; index < total; index++) {
    if (index === 100) {
      alive = false
      doomed.child.kill('SIGKILL')
    }
    await h.send(index % 2 ? ada : bob, roomId, `m${index}`)
  }
  const deadline = Date.now() + 20_000
  while (clients.some(({ received }) => received.length < total) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  const stored = await h.db.selectFrom('room_events').select('seq').where('room_id', '=', roomId).orderBy('seq').execute()
  t.same(stored.map((row) => row.seq), range(1, total))
  for (const { received } of clients) t.same(received.map((frame) => frame.seq), range(1, total), 'every stored event once, in order')
  t.ok(states.includes('reconnecting'), `the client saw the gateway go: ${states.join(' → ')}`)
})

test('a message sent over a socket on one gateway is stored once, acknowledged, and broadcast through the other', async (t) => {
  const h = await build(t, { transport: 'nats', gateways: 2 })
  const [ada, bob] = [await h.createUser(), await h.createUser()]
  const roomId = await h.createRoom(ada, [bob])
  const sender = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  const reader = connect(t, h.gateways[1]!, `/ws/chat/${roomId}/`, bob)
  await sender.next('subscribed')
  await reader.next('subscribed')
  sender.send({ type: 'message', text: 'across gateways', client_msg_id: 'x-1', ref: 'r' })
  const ack = await sender.next('ack')
  const created = await reader.next('message.created')
  t.equal(created.message.id, ack.message.id)
  t.same(seqsOf(sender, roomId), [1], 'the sender gets its own event too')
  const rows = await h.db.selectFrom('messages').select('id').where('room_id', '=', roomId).execute()
  t.equal(rows.length, 1)
})

test('on NATS: a removal ends the user\'s subscription on every gateway; a withheld event arrives from the store', async (t) => {
  const h = await build(t, { transport: 'nats', gateways: 2 })
  const [ada, bob] = [await h.createUser(), await h.createUser()]
  const roomId = await h.createRoom(ada, [bob])
  const bobSockets = h.gateways.map((gateway) => connect(t, gateway, `/ws/chat/${roomId}/`, bob))
  const adaSocket = connect(t, h.gateways[1]!, `/ws/chat/${roomId}/`, ada)
  for (const socket of [...bobSockets, adaSocket]) await socket.next('subscribed')
  await h.send(ada, roomId, 'one')
  await h.db.transaction().execute(async (trx) => {
    const room = await trx.updateTable('rooms').set((eb) => ({ last_seq: eb('last_seq', '+', 1) })).where('id', '=', roomId).returning('last_seq').executeTakeFirstOrThrow()
    await trx
      .insertInto('room_events')
      .values({ room_id: roomId, seq: room.last_seq, type: 'message.deleted', payload: JSON.stringify({ type: 'message.deleted', room_id: roomId, seq: room.last_seq, message_id: '0190a0a0-0000-7000-8000-000000000002' }) })
      .execute()
  })
  const left = await h.rooms.inject({ method: 'DELETE', url: `/chatrooms/${roomId}/participants/me/`, headers: { authorization: `Bearer ${bob.token}` } })
  t.equal(left.statusCode, 204)
  for (const socket of bobSockets) {
    t.equal((await socket.closed).code, closeCodes.notAParticipant)
    t.same(seqsOf(socket, roomId), [1, 2, 3], 'the withheld event 2 came from the store before the removal (3)')
  }
  await h.send(ada, roomId, 'after')
  await adaSocket.until(() => seqsOf(adaSocket, roomId).length === 4)
  t.same(seqsOf(adaSocket, roomId), [1, 2, 3, 4])
})

test('the gateway process: SIGTERM closes its sockets with 1001 and exits 0; a bad setting stops it with one line', async (t) => {
  const h = await build(t, { transport: 'nats', gateways: 0 })
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  const running = await startServiceProcess(gatewayMain, { DATABASE_URL: h.databaseUrl, NATS_URL: natsUrl, JWT_PUBLIC_KEY: h.signer.key.publicKeyPem })
  t.teardown(() => running.child.kill('SIGKILL'))
  const gateway = { url: running.baseUrl.replace('http://', 'ws://') } as Harness['gateways'][number]
  const socket = connect(t, gateway, `/ws/chat/${roomId}/`, ada)
  await socket.next('subscribed')
  running.child.kill('SIGTERM')
  t.equal((await socket.closed).code, closeCodes.goingAway)
  t.equal(await running.exited, 0)
  const bad = await runToExit(gatewayMain, { DATABASE_URL: h.databaseUrl, JWT_PUBLIC_KEY: h.signer.key.publicKeyPem, WS_SEND_QUEUE_BYTES: '10' })
  t.equal(bad.code, 1)
  t.match(bad.stderr.trim(), /^Invalid configuration: WS_SEND_QUEUE_BYTES /)
})
