import t from 'tap'
import { WebSocket } from 'ws'
import type { RoomEventFrame } from '@chat/contracts'
import { ChatSocketError, createChatClient, type ChatSocket, type ConnectionState } from '../src/index.js'
import { delay, messageFrame, roomA, roomB, sendJson, sendProblem, session, startPeer, waitFor } from './helpers.js'

const fast = { baseDelayMs: 10, maxDelayMs: 40, stableAfterMs: 10_000 }

function watch(socket: ChatSocket) {
  const states: ConnectionState[] = []
  const events: RoomEventFrame[] = []
  const errors: ChatSocketError[] = []
  socket.on('state', (state) => states.push(state))
  socket.on('event', (frame) => events.push(frame))
  socket.on('error', (error) => errors.push(error))
  return { states, events, errors, seqs: (roomId = roomA) => events.filter((frame) => frame.room_id === roomId).map((frame) => frame.seq) }
}

t.test('connects to /ws/ with the bearer subprotocol pair and reconnects after an abnormal close', async (t) => {
  const peer = await startPeer(t)
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const seen = watch(socket)
  const first = await peer.nextConnection()
  t.equal(first.path, '/ws/')
  t.equal(first.token, 'token-1')
  await waitFor(() => socket.state === 'open')
  first.ws.terminate()
  const second = await peer.nextConnection()
  t.equal(second.token, 'token-1')
  await waitFor(() => socket.state === 'open')
  t.same(seen.states, ['connecting', 'open', 'reconnecting', 'open'])
})

t.test('backoff ceilings double up to the maximum (Math.random pinned to its top)', async (t) => {
  const random = Math.random
  Math.random = () => 0.999
  t.teardown(() => {
    Math.random = random
  })
  const times: number[] = []
  const peer = await startPeer(t, {
    onConnection: (connection) => {
      times.push(performance.now())
      connection.ws.close(1001, 'going away')
    }
  })
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: { baseDelayMs: 40, maxDelayMs: 160, stableAfterMs: 10_000 } })
  t.teardown(() => socket.close())
  await waitFor(() => times.length >= 5, 10_000)
  socket.close()
  const gaps = times.slice(1).map((time, index) => time - (times[index] as number))
  // Ceilings 40, 80, 160, 160: a timer never fires early, so each gap is at least ~its ceiling.
  t.ok((gaps[0] as number) >= 35, `first gap ${gaps[0]}`)
  t.ok((gaps[1] as number) >= 75, `second gap ${gaps[1]}`)
  t.ok((gaps[2] as number) >= 150, `third gap ${gaps[2]}`)
  t.ok((gaps[3] as number) >= 150, `fourth gap ${gaps[3]} (capped)`)
})

t.test('resumes each room after the last seq delivered; duplicates and out-of-order replays are dropped', async (t) => {
  const peer = await startPeer(t)
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const seen = watch(socket)
  socket.subscribe(roomA)
  socket.subscribe(roomB, { afterSeq: 10 })
  const first = await peer.nextConnection()
  t.same(await first.nextFrame((frame) => frame.room_id === roomA), { type: 'subscribe', room_id: roomA })
  t.same(await first.nextFrame((frame) => frame.room_id === roomB), { type: 'subscribe', room_id: roomB, after_seq: 10 })
  first.send({ type: 'subscribed', room_id: roomA, last_seq: 2 })
  first.send({ type: 'subscribed', room_id: roomB, last_seq: 12 })
  for (const frame of [messageFrame(roomB, 11), messageFrame(roomA, 3), messageFrame(roomA, 4), messageFrame(roomB, 12)]) first.send(frame)
  await waitFor(() => seen.events.length === 4)
  first.ws.terminate()

  const second = await peer.nextConnection()
  t.same(await second.nextFrame((frame) => frame.room_id === roomA), { type: 'subscribe', room_id: roomA, after_seq: 4 })
  t.same(await second.nextFrame((frame) => frame.room_id === roomB), { type: 'subscribe', room_id: roomB, after_seq: 12 })
  // A replay that overlaps what was delivered, then a stale frame out of order.
  for (const seq of [3, 4, 5, 5, 4, 6]) second.send(messageFrame(roomA, seq))
  second.send(messageFrame(roomB, 13))
  await waitFor(() => seen.events.length === 7)
  await delay(30)
  t.same(seen.seqs(roomA), [3, 4, 5, 6])
  t.same(seen.seqs(roomB), [11, 12, 13])
  t.equal(socket.lastSeq(roomA), 6)
  t.equal(peer.connections.length, 2, 'duplicates are no reason to reconnect')
})

t.test('a seq gap on the live stream makes the client reconnect and resume from the last seq', async (t) => {
  const peer = await startPeer(t)
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const seen = watch(socket)
  socket.subscribe(roomA, { afterSeq: 0 })
  const first = await peer.nextConnection()
  await first.nextFrame((frame) => frame.type === 'subscribe')
  first.send(messageFrame(roomA, 1))
  first.send(messageFrame(roomA, 3))
  first.send(messageFrame(roomA, 4))
  const second = await peer.nextConnection()
  t.same(await second.nextFrame((frame) => frame.type === 'subscribe'), { type: 'subscribe', room_id: roomA, after_seq: 1 })
  for (const seq of [2, 3, 4]) second.send(messageFrame(roomA, seq))
  await waitFor(() => seen.events.length === 4)
  t.same(seen.seqs(), [1, 2, 3, 4])
})

t.test('a room socket resumes through ?after_seq= on its own URL', async (t) => {
  const peer = await startPeer(t)
  const client = createChatClient({ baseUrl: `${peer.baseUrl}/`, WebSocket, session: session('token-1') })
  const socket = client.connect({ roomId: roomA, afterSeq: 7, reconnect: fast })
  t.teardown(() => socket.close())
  const seen = watch(socket)
  const first = await peer.nextConnection()
  t.equal(first.path, `/ws/chat/${roomA}/`)
  t.equal(first.query.get('after_seq'), '7')
  first.send(messageFrame(roomA, 8))
  await waitFor(() => seen.events.length === 1)
  first.ws.close(4408, 'too slow')
  const second = await peer.nextConnection()
  t.equal(second.query.get('after_seq'), '8')
  t.throws(() => socket.subscribe(roomB), TypeError, 'subscribe is for /ws/ only')
})

t.test('4401: one refresh through the HTTP client, then a reconnect with the new token', async (t) => {
  let refreshes = 0
  const peer = await startPeer(t, {
    onConnection: (connection) => {
      if (connection.token !== 'token-2') connection.ws.close(4401, 'unauthenticated')
    },
    http: (request, response, body) => {
      if (request.method === 'POST' && request.url === '/auth/refresh/') {
        refreshes += 1
        t.same(JSON.parse(body.toString()), { refresh_token: 'refresh-of-token-1' })
        sendJson(response, 200, session('token-2'))
      } else sendProblem(response, 404, 'not_found')
    }
  })
  const changes: Array<string | null> = []
  const client = createChatClient({
    baseUrl: peer.baseUrl,
    WebSocket,
    session: session('token-1'),
    onSessionChange: (next) => changes.push(next?.access_token ?? null)
  })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const seen = watch(socket)
  socket.subscribe(roomA, { afterSeq: 3 })
  t.equal((await peer.nextConnection()).token, 'token-1')
  const second = await peer.nextConnection()
  t.equal(second.token, 'token-2')
  t.same(await second.nextFrame((frame) => frame.type === 'subscribe'), { type: 'subscribe', room_id: roomA, after_seq: 3 })
  await waitFor(() => socket.state === 'open')
  t.equal(refreshes, 1)
  t.same(changes, ['token-2'])
  t.equal(client.session?.access_token, 'token-2')
  t.same(seen.errors, [])
})

t.test('4401 with a refresh the server refuses: closed for good, session cleared', async (t) => {
  const peer = await startPeer(t, {
    onConnection: (connection) => connection.ws.close(4401, 'unauthenticated'),
    http: (_request, response) => sendProblem(response, 401, 'invalid_refresh_token')
  })
  const changes: Array<string | null> = []
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1'), onSessionChange: (next) => changes.push(next?.access_token ?? null) })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const seen = watch(socket)
  const pending = socket.sendMessage(roomA, 'never acked')
  pending.catch(() => {})
  await waitFor(() => socket.state === 'closed')
  t.equal(seen.errors.length, 1)
  t.equal(seen.errors[0]?.code, 'unauthenticated')
  t.equal(seen.errors[0]?.closeCode, 4401)
  await t.rejects(pending, { code: 'unauthenticated' })
  t.same(changes, [null])
  t.equal(client.session, null)
  await delay(60)
  t.equal(peer.connections.length, 1, 'no reconnect')
})

t.test('4404 on a room socket ends it for good with an error event', async (t) => {
  const peer = await startPeer(t, { onConnection: (connection) => connection.ws.close(4404, 'no such room') })
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ roomId: roomA, reconnect: fast })
  t.teardown(() => socket.close())
  const seen = watch(socket)
  await waitFor(() => socket.state === 'closed')
  t.equal(seen.errors[0]?.code, 'room_not_found')
  t.equal(seen.errors[0]?.closeCode, 4404)
  t.equal(seen.errors[0]?.roomId, roomA)
  t.same(seen.states, ['connecting', 'open', 'closed'])
  await delay(80)
  t.equal(peer.connections.length, 1, 'never retried')
  await t.rejects(socket.sendMessage(roomA, 'late'), ChatSocketError)
})

t.test('4403 for one room on /ws/: an error frame, surfaced, and that room is not asked for again', async (t) => {
  const peer = await startPeer(t, {
    onConnection: (connection) => {
      connection.ws.on('message', (data) => {
        const frame = JSON.parse((data as Buffer).toString('utf8')) as { type: string; room_id: string }
        if (frame.type === 'subscribe' && frame.room_id === roomB) {
          connection.send({ type: 'error', ref: null, code: 'not_a_member', detail: `not a participant of room ${roomB}` })
        }
      })
    }
  })
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const seen = watch(socket)
  socket.subscribe(roomA)
  socket.subscribe(roomB)
  const first = await peer.nextConnection()
  await waitFor(() => seen.errors.length === 1)
  t.equal(seen.errors[0]?.code, 'not_a_member')
  t.equal(seen.errors[0]?.roomId, roomB)
  first.ws.terminate()
  const second = await peer.nextConnection()
  await second.nextFrame((frame) => frame.type === 'subscribe')
  await delay(30)
  t.same(second.frames, [{ type: 'subscribe', room_id: roomA }])
  t.equal(socket.state, 'open')
})

t.test('sendMessage: re-sent after a reconnect with the same client_msg_id, resolved by the ack; an error frame rejects', async (t) => {
  const peer = await startPeer(t)
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const sent = socket.sendMessage(roomA, 'hello', { clientMsgId: 'c-1' })
  const first = await peer.nextConnection()
  const original = await first.nextFrame((frame) => frame.type === 'message')
  t.match(original, { type: 'message', text: 'hello', client_msg_id: 'c-1', room_id: roomA, ref: String })
  first.ws.terminate()
  const second = await peer.nextConnection()
  const again = await second.nextFrame((frame) => frame.type === 'message')
  t.same(again, original, 'same frame: same client_msg_id and ref')
  const stored = { ...(messageFrame(roomA, 5).message as object), text: 'hello', client_msg_id: 'c-1' }
  second.send({ type: 'ack', ref: again.ref, message: stored })
  t.same(await sent, stored)

  const refused = socket.sendMessage(roomA, ' ')
  const frame = await second.nextFrame((candidate) => candidate.type === 'message' && candidate.ref !== again.ref)
  t.ok(typeof frame.client_msg_id === 'string' && frame.client_msg_id.length > 0, 'a client_msg_id is made when none is given')
  second.send({ type: 'error', ref: frame.ref, code: 'validation_failed', detail: 'text is blank' })
  await t.rejects(refused, { name: 'ChatSocketError', code: 'validation_failed', detail: 'text is blank', roomId: roomA })
})

t.test('resync_required is surfaced; the room waits for resetRoom, which subscribes again from there', async (t) => {
  const peer = await startPeer(t)
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const seen = watch(socket)
  const resyncs: string[] = []
  socket.on('resync_required', (frame) => resyncs.push(frame.room_id))
  socket.subscribe(roomA, { afterSeq: 1 })
  const connection = await peer.nextConnection()
  await connection.nextFrame((frame) => frame.type === 'subscribe')
  // What the gateway does: resync_required, then subscribed at the room's head, then live events.
  connection.send({ type: 'resync_required', room_id: roomA })
  connection.send({ type: 'subscribed', room_id: roomA, last_seq: 900 })
  connection.send(messageFrame(roomA, 901))
  await waitFor(() => resyncs.length === 1)
  await delay(20)
  t.same(seen.events, [], 'nothing delivered while the app reloads, not even after subscribed')
  socket.resetRoom(roomA, 950)
  t.same(await connection.nextFrame((frame) => frame.after_seq === 950), { type: 'subscribe', room_id: roomA, after_seq: 950 })
  connection.send(messageFrame(roomA, 950))
  connection.send(messageFrame(roomA, 951))
  await waitFor(() => seen.events.length === 1)
  t.same(seen.seqs(), [951])
})

t.test('ping resolves with the round trip; typing is sent only while open', async (t) => {
  const peer = await startPeer(t, {
    onConnection: (connection) => {
      connection.ws.on('message', (data) => {
        const frame = JSON.parse((data as Buffer).toString('utf8')) as { type: string; ref?: string }
        if (frame.type === 'ping') connection.send({ type: 'pong', ref: frame.ref ?? null })
      })
    }
  })
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  t.equal(socket.typing(roomA), false, 'not open yet')
  await t.rejects(socket.ping(), { code: 'not_open' })
  const connection = await peer.nextConnection()
  await waitFor(() => socket.state === 'open')
  const roundTrip = await socket.ping()
  t.type(roundTrip, 'number')
  t.ok(roundTrip >= 0)
  t.equal(socket.typing(roomA), true)
  t.same(await connection.nextFrame((frame) => frame.type === 'typing'), { type: 'typing', room_id: roomA })
})

t.test('close() ends everything: pending calls rejected, state closed, no timer left', async (t) => {
  const peer = await startPeer(t, { onConnection: (connection) => connection.ws.close(1001, 'going away') })
  const timeoutsBefore = process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: { baseDelayMs: 5_000, maxDelayMs: 5_000, stableAfterMs: 60_000 } })
  const seen = watch(socket)
  const pending = socket.sendMessage(roomA, 'never acked')
  pending.catch(() => {})
  await peer.nextConnection()
  await waitFor(() => socket.state === 'reconnecting')
  socket.close()
  await t.rejects(pending, { code: 'closed' })
  t.same(seen.states, ['connecting', 'open', 'reconnecting', 'closed'])
  t.same(seen.errors, [], 'a close asked for is no error')
  await delay(20)
  const timeoutsAfter = process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length
  t.ok(timeoutsAfter <= timeoutsBefore, `timers before ${timeoutsBefore}, after ${timeoutsAfter}`)
  t.equal(peer.connections.length, 1)
})

t.test('close() while connecting opens nothing afterwards', async (t) => {
  const peer = await startPeer(t)
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect()
  socket.close()
  await delay(50)
  t.equal(socket.state, 'closed')
  t.equal(peer.connections.length, 0)
})

t.test('https base URLs become wss; without any WebSocket implementation connect() says so', async (t) => {
  const urls: string[] = []
  class RecordingSocket {
    readyState = 0
    constructor(url: string) {
      urls.push(url)
    }
    send() {}
    close() {}
    addEventListener() {}
  }
  const client = createChatClient({ baseUrl: 'https://chat.example.com/api/', WebSocket: RecordingSocket, session: session('token-1') })
  const socket = client.connect({ roomId: roomA, afterSeq: 2 })
  await delay(0)
  socket.close()
  t.same(urls, [`wss://chat.example.com/api/ws/chat/${roomA}/?after_seq=2`])
  const bare = createChatClient({ baseUrl: 'http://x.invalid' })
  const saved = (globalThis as { WebSocket?: unknown }).WebSocket
  ;(globalThis as { WebSocket?: unknown }).WebSocket = undefined
  t.teardown(() => {
    ;(globalThis as { WebSocket?: unknown }).WebSocket = saved
  })
  t.throws(() => bare.connect(), TypeError)
})

t.test('a reply with mentions goes out in the message frame; a mention frame is surfaced as `mention`', async (t) => {
  const peer = await startPeer(t)
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const mentions: unknown[] = []
  socket.on('mention', (frame) => mentions.push(frame))
  const root = messageFrame(roomA, 1).message as { id: string }
  const mentioned = '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e70'
  void socket.sendMessage(roomA, 'yes @Ada', { clientMsgId: 'c-9', replyTo: root.id, mentions: [mentioned] }).catch(() => undefined)
  const connection = await peer.nextConnection()
  t.match(await connection.nextFrame((frame) => frame.type === 'message'), { text: 'yes @Ada', client_msg_id: 'c-9', reply_to: root.id, mentions: [mentioned] })
  const notice = { type: 'mention', room_id: roomB, message: messageFrame(roomB, 4).message }
  connection.send(notice)
  await waitFor(() => mentions.length === 1)
  t.same(mentions, [notice], 'surfaced whatever rooms the socket watches')
})

t.test('room.joined and an error frame with room_id: the first is surfaced, the second stops that room for good', async (t) => {
  const peer = await startPeer(t)
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const seen = watch(socket)
  const joined: string[] = []
  socket.on('room_joined', (frame) => joined.push(frame.room_id))
  socket.subscribe(roomA)
  const connection = await peer.nextConnection()
  await waitFor(() => socket.state === 'open')
  connection.send({ type: 'room.joined', room_id: roomB })
  await waitFor(() => joined.length === 1)
  t.same(joined, [roomB])
  connection.send({ type: 'error', ref: null, code: 'not_a_member', detail: 'you no longer participate in this room', room_id: roomA })
  await waitFor(() => seen.errors.length === 1)
  t.equal(seen.errors[0]?.roomId, roomA, 'the room comes from the frame')
  connection.ws.terminate()
  const next = await peer.nextConnection()
  await delay(50)
  t.notOk(next.frames.some((frame) => frame.type === 'subscribe' && frame.room_id === roomA), 'the stopped room is not asked for again')
})

t.test('frames are paced under the gateway limit: 60 subscribes go out as a burst of 40, then the rest', async (t) => {
  const peer = await startPeer(t)
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const connection = await peer.nextConnection()
  await waitFor(() => socket.state === 'open')
  const rooms = Array.from({ length: 60 }, (_, index) => `0190a0a0-0000-7000-8000-${String(index).padStart(12, '0')}`)
  for (const roomId of rooms) socket.subscribe(roomId)
  await delay(30)
  const early = connection.frames.filter((frame) => frame.type === 'subscribe').length
  t.ok(early <= 41, `a burst of at most 40 (+1 refilled) at once: ${early}`)
  await waitFor(() => connection.frames.filter((frame) => frame.type === 'subscribe').length === 60, 5_000)
  t.same(connection.frames.filter((frame) => frame.type === 'subscribe').map((frame) => frame.room_id), rooms, 'every one, in order')
})

t.test('presence and read frames are surfaced as `presence` and `read`; a read frame is never taken for a room event', async (t) => {
  const peer = await startPeer(t)
  const client = createChatClient({ baseUrl: peer.baseUrl, WebSocket, session: session('token-1') })
  const socket = client.connect({ reconnect: fast })
  t.teardown(() => socket.close())
  const seen = watch(socket)
  const presence: unknown[] = []
  const reads: unknown[] = []
  socket.on('presence', (frame) => presence.push(frame))
  socket.on('read', (frame) => reads.push(frame))
  socket.subscribe(roomA)
  const connection = await peer.nextConnection()
  await waitFor(() => socket.state === 'open')
  connection.send({ type: 'subscribed', room_id: roomA, last_seq: 0 })
  const bob = { id: '0190f5e2-0000-7000-8000-000000000002', display_name: 'Bob', created_at: '2026-11-26T20:15:00.123Z' }
  connection.send({ type: 'presence', user: bob, online: true })
  // seq 5 while the room is at 0: were it taken for an event, the client would see a gap and reconnect.
  connection.send({ type: 'read', room_id: roomA, user: bob, last_read_seq: 5 })
  connection.send({ type: 'read', room_id: roomB, user: bob, last_read_seq: 1 })
  connection.send(messageFrame(roomA, 1))
  await waitFor(() => seen.events.length === 1)
  t.same(presence, [{ type: 'presence', user: bob, online: true }])
  t.same(reads, [{ type: 'read', room_id: roomA, user: bob, last_read_seq: 5 }], 'only for rooms the socket watches')
  t.same(seen.events.map((frame) => frame.seq), [1], 'the room\'s events go on from seq 1')
  t.equal(peer.connections.length, 1, 'no reconnect')
})
