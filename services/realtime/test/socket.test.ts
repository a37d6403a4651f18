import { test } from 'tap'
import { closeCodes } from '@chat/contracts'
import { createTokenSigner } from '@chat/service-kit'
import { build, connect, range, seqsOf } from './helper.js'

test('a room socket: subscribed, then every event of the room as the bytes the service published', async (t) => {
  const h = await build(t)
  const [ada, bob] = [await h.createUser('Ada'), await h.createUser('Bob')]
  const roomId = await h.createRoom(ada, [bob])
  const socket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, bob)
  await socket.opened
  t.equal(socket.ws.protocol, 'bearer', 'the server selects the bearer subprotocol, never echoing the token')
  const subscribed = await socket.next('subscribed')
  t.same(subscribed, { type: 'subscribed', room_id: roomId, last_seq: 0 })
  const sent = await h.send(ada, roomId, 'hello')
  const frame = await socket.next('message.created')
  t.same(frame, { type: 'message.created', room_id: roomId, seq: 1, message: { ...sent, my_reaction: null } })
})

test('the token by Authorization header, by subprotocol pair, or by ?token=; none or a bad one closes with 4401', async (t) => {
  const h = await build(t)
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  for (const auth of ['header', 'protocol', 'query'] as const) {
    const socket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada, { auth })
    t.match(await socket.next('subscribed'), { room_id: roomId }, `token by ${auth}`)
    socket.close()
  }
  const none = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, undefined, { auth: 'none' })
  await none.opened
  t.equal((await none.closed).code, closeCodes.unauthenticated, 'accepted first, then closed with 4401')
  const forged = connect(t, h.gateways[0]!, '/ws/', ada, { token: `${ada.token.slice(0, -4)}AAAA` })
  t.equal((await forged.closed).code, closeCodes.unauthenticated)
})

test('refusals: an unknown room 4404, a malformed room id 4404, an outsider 4403, a bad after_seq 1008', async (t) => {
  const h = await build(t)
  const [ada, eve] = [await h.createUser(), await h.createUser()]
  const roomId = await h.createRoom(ada)
  const gateway = h.gateways[0]!
  t.equal((await connect(t, gateway, '/ws/chat/0190a0a0-0000-7000-8000-000000000000/', ada).closed).code, closeCodes.noSuchRoom)
  t.equal((await connect(t, gateway, '/ws/chat/not-a-uuid/', ada).closed).code, closeCodes.noSuchRoom)
  t.equal((await connect(t, gateway, `/ws/chat/${roomId}/`, eve).closed).code, closeCodes.notAParticipant)
  const bad = connect(t, gateway, `/ws/chat/${roomId}/`, ada, { query: { after_seq: '-1' } })
  t.equal((await bad.closed).code, 1008)
  t.same(bad.frames, [], 'nothing of the room reached a refused socket')
})

test('a message frame is stored exactly like a POST, acknowledged with its ref, and broadcast once', async (t) => {
  const h = await build(t)
  const [ada, bob] = [await h.createUser(), await h.createUser()]
  const roomId = await h.createRoom(ada, [bob])
  const adaSocket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  const bobSocket = connect(t, h.gateways[0]!, '/ws/', bob)
  await adaSocket.next('subscribed')
  bobSocket.send({ type: 'subscribe', room_id: roomId })
  await bobSocket.next('subscribed')

  adaSocket.send({ type: 'message', text: 'over the socket', client_msg_id: 'c-1', ref: 'r-1' })
  const ack = await adaSocket.next('ack')
  t.equal(ack.ref, 'r-1')
  t.match(ack.message, { room_id: roomId, seq: 1, text: 'over the socket', client_msg_id: 'c-1', sender: { id: ada.id } })
  const created = await bobSocket.next('message.created')
  t.equal(created.message.id, ack.message.id)

  adaSocket.send({ type: 'message', text: 'over the socket', client_msg_id: 'c-1', ref: 'r-2' })
  const repeat = await adaSocket.next('ack', (frame) => frame.ref === 'r-2')
  t.equal(repeat.message.id, ack.message.id, 'a repeated client_msg_id answers the stored message')
  bobSocket.send({ type: 'message', room_id: roomId, text: 'second', ref: 'b' })
  await bobSocket.next('ack', (frame) => frame.ref === 'b')
  await adaSocket.until((frames) => frames.filter((frame) => frame.type === 'message.created').length === 2)
  t.same(seqsOf(adaSocket, roomId), [1, 2], 'the repeat took no seq and was broadcast once')
  const rows = await h.db.selectFrom('messages').select('text').where('room_id', '=', roomId).orderBy('seq').execute()
  t.same(rows.map((row) => row.text), ['over the socket', 'second'])

  adaSocket.send({ type: 'message', text: '   ', ref: 'blank' })
  t.match(await adaSocket.next('error', (frame) => frame.ref === 'blank'), { code: 'validation_failed' })
  bobSocket.send({ type: 'message', text: 'where to?', ref: 'nowhere' })
  t.match(await bobSocket.next('error', (frame) => frame.ref === 'nowhere'), { code: 'room_id_required' })
})

test('client frames: ping answers pong with its ref; malformed frames get invalid_frame and the socket stays open', async (t) => {
  const h = await build(t)
  const ada = await h.createUser()
  const socket = connect(t, h.gateways[0]!, '/ws/', ada)
  await socket.opened
  socket.send({ type: 'ping', ref: 'p1' })
  t.same(await socket.next('pong'), { type: 'pong', ref: 'p1' })
  socket.ws.send('{not json')
  t.match(await socket.next('error'), { code: 'invalid_frame', ref: null })
  socket.send({ type: 'subscribe', room_id: 'nope', ref: 'bad-sub' })
  t.match(await socket.next('error', (frame) => frame.ref === 'bad-sub'), { code: 'invalid_frame' })
  socket.send({ type: 'ping' })
  t.same(await socket.next('pong', (frame) => frame.ref === null), { type: 'pong', ref: null })
})

test('/ws/ carries several rooms; subscribe to an outsider room is refused with its room_id; unsubscribe stops delivery', async (t) => {
  const h = await build(t)
  const [ada, bob] = [await h.createUser(), await h.createUser()]
  const first = await h.createRoom(ada, [bob])
  const second = await h.createRoom(ada, [bob])
  const private_ = await h.createRoom(ada)
  const socket = connect(t, h.gateways[0]!, '/ws/', bob)
  socket.send({ type: 'subscribe', room_id: first })
  socket.send({ type: 'subscribe', room_id: second })
  socket.send({ type: 'subscribe', room_id: private_, ref: 'x' })
  await socket.until((frames) => frames.filter((frame) => frame.type === 'subscribed').length === 2)
  t.match(await socket.next('error', (frame) => frame.ref === 'x'), { code: 'not_a_member', room_id: private_ })
  await h.send(ada, first, 'one')
  await h.send(ada, second, 'two')
  await h.send(ada, private_, 'secret')
  await socket.until((frames) => frames.filter((frame) => frame.type === 'message.created').length === 2)
  socket.send({ type: 'unsubscribe', room_id: first })
  socket.send({ type: 'ping', ref: 'after-unsubscribe' })
  await socket.next('pong')
  await h.send(ada, first, 'not for bob')
  await h.send(ada, second, 'for bob')
  await socket.until((frames) => frames.filter((frame) => frame.type === 'message.created').length === 3)
  t.same(seqsOf(socket, first), [1])
  t.same(seqsOf(socket, second), [1, 2])
  t.same(seqsOf(socket, private_), [], 'nothing of a room bob is not in')
  const room = connect(t, h.gateways[0]!, `/ws/chat/${first}/`, bob)
  room.send({ type: 'subscribe', room_id: second, ref: 's' })
  t.match(await room.next('error', (frame) => frame.ref === 's'), { code: 'not_supported' })
})

test('resume after 1000 missed messages: every one in order, then live, with no gap and no duplicate', async (t) => {
  const h = await build(t)
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  for (let index = 0; index < 1000; index++) await h.send(ada, roomId, `m${index}`)
  const socket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada, { query: { after_seq: '0' } })
  await socket.next('subscribed')
  t.same(seqsOf(socket, roomId), range(1, 1000), 'replayed before subscribed')
  t.match(socket.frames.find((frame) => frame.type === 'subscribed'), { last_seq: 1000 })
  await h.send(ada, roomId, 'live')
  await socket.until((frames) => frames.length === 1002)
  t.same(seqsOf(socket, roomId), range(1, 1001))
})

test('resume while messages keep arriving during the replay: exactly the stored sequence', async (t) => {
  const h = await build(t)
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  for (let index = 0; index < 600; index++) await h.send(ada, roomId, `before ${index}`)
  const socket = connect(t, h.gateways[0]!, '/ws/', ada)
  await socket.opened
  socket.send({ type: 'subscribe', room_id: roomId, after_seq: 100 })
  const writer = (async () => {
    for (let index = 0; index < 200; index++) await h.send(ada, roomId, `during ${index}`)
  })()
  await writer
  await socket.until((frames) => seqsOf(socket, roomId).at(-1) === 800 || frames.length > 900)
  t.same(seqsOf(socket, roomId), range(101, 800))
})

test('a resume point older than the kept history, or too far behind, gets resync_required, then the live stream', async (t) => {
  const h = await build(t, { gateway: { maxReplayEvents: 50 } })
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  for (let index = 0; index < 60; index++) await h.send(ada, roomId, `m${index}`)
  const behind = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada, { query: { after_seq: '5' } })
  await behind.next('resync_required')
  t.same(await behind.next('subscribed'), { type: 'subscribed', room_id: roomId, last_seq: 60 })
  t.same(seqsOf(behind, roomId), [], 'nothing replayed')

  await h.db.deleteFrom('room_events').where('room_id', '=', roomId).where('seq', '<=', 20).execute()
  const pruned = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada, { query: { after_seq: '15' } })
  await pruned.next('resync_required')
  const kept = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada, { query: { after_seq: '20' } })
  await kept.next('subscribed')
  t.same(seqsOf(kept, roomId), range(21, 60), 'from the oldest kept event, a resume still works')
  const ahead = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada, { query: { after_seq: '61' } })
  await ahead.next('resync_required')
  await h.send(ada, roomId, 'live')
  for (const socket of [behind, pruned, kept, ahead]) await socket.until(() => seqsOf(socket, roomId).includes(61))
  t.same(seqsOf(behind, roomId), [61])
})

test('a gap in the live stream is filled from the store before anything past it goes out', async (t) => {
  const h = await build(t)
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  const socket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  await socket.next('subscribed')
  await h.send(ada, roomId, 'one')
  // A committed event whose publish was lost (the writer crashed after commit).
  await h.db.transaction().execute(async (trx) => {
    const room = await trx.updateTable('rooms').set((eb) => ({ last_seq: eb('last_seq', '+', 1) })).where('id', '=', roomId).returning('last_seq').executeTakeFirstOrThrow()
    await trx
      .insertInto('room_events')
      .values({ room_id: roomId, seq: room.last_seq, type: 'message.deleted', payload: JSON.stringify({ type: 'message.deleted', room_id: roomId, seq: room.last_seq, message_id: '0190a0a0-0000-7000-8000-000000000001' }) })
      .execute()
  })
  await h.send(ada, roomId, 'three')
  await socket.until(() => seqsOf(socket, roomId).length === 3)
  t.same(seqsOf(socket, roomId), [1, 2, 3])
  t.match(socket.events(roomId)[1], { type: 'message.deleted', seq: 2 }, 'the withheld event came from the store')
  t.equal(h.gateways[0]!.app.realtime.stats.gapFills, 1)
})

test('typing: others in the room see it (active, then a stop when the socket closes); the typist does not', async (t) => {
  const h = await build(t)
  const [ada, bob] = [await h.createUser('Ada'), await h.createUser('Bob')]
  const roomId = await h.createRoom(ada, [bob])
  const adaSocket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  const adaOther = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  const bobSocket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, bob)
  for (const socket of [adaSocket, adaOther, bobSocket]) await socket.next('subscribed')
  adaSocket.send({ type: 'typing' })
  const typing = await bobSocket.next('typing')
  t.same(typing, { type: 'typing', room_id: roomId, user: { id: ada.id, display_name: 'Ada', created_at: ada.created_at }, active: true })
  t.notOk('seq' in typing, 'ephemeral: no seq key at all')
  adaSocket.send({ type: 'typing' })
  adaSocket.close()
  await bobSocket.next('typing', (frame) => !frame.active)
  t.equal(bobSocket.frames.filter((frame) => frame.type === 'typing').length, 2, 'a repeat within 2 s is not re-published')
  adaOther.send({ type: 'ping', ref: 'p' })
  await adaOther.next('pong')
  t.same(adaOther.frames.filter((frame) => frame.type === 'typing'), [], "the typist's own sockets get nothing")
  const stored = await h.db.selectFrom('room_events').select('seq').where('room_id', '=', roomId).execute()
  t.same(stored, [], 'typing is never stored')
})

test('a participant removed from the room stops receiving its events at once', async (t) => {
  const h = await build(t)
  const [ada, bob, cyd] = [await h.createUser(), await h.createUser(), await h.createUser()]
  const roomId = await h.createRoom(ada, [bob, cyd])
  const bobRoom = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, bob)
  const bobAll = connect(t, h.gateways[0]!, '/ws/', bob)
  const adaSocket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  bobAll.send({ type: 'subscribe', room_id: roomId })
  for (const socket of [bobRoom, bobAll, adaSocket]) await socket.next('subscribed')
  const left = await h.rooms.inject({ method: 'DELETE', url: `/chatrooms/${roomId}/participants/me/`, headers: { authorization: `Bearer ${bob.token}` } })
  t.equal(left.statusCode, 204)
  t.equal((await bobRoom.closed).code, closeCodes.notAParticipant, 'the room socket is closed with 4403')
  t.match(await bobAll.next('error'), { code: 'not_a_member', room_id: roomId })
  t.match(bobAll.events(roomId), [{ type: 'participants.removed', seq: 1 }], 'the removal itself is the last event bob gets')
  await h.send(ada, roomId, 'after bob left')
  await adaSocket.until(() => seqsOf(adaSocket, roomId).length === 2)
  bobAll.send({ type: 'ping', ref: 'later' })
  await bobAll.next('pong')
  t.same(seqsOf(bobAll, roomId), [1])
  bobAll.send({ type: 'subscribe', room_id: roomId, ref: 'again' })
  t.match(await bobAll.next('error', (frame) => frame.ref === 'again'), { code: 'not_a_member' })
})

test('more client frames than the limit close the socket with 4429', async (t) => {
  const h = await build(t, { gateway: { rateLimitFps: 5, rateLimitBurst: 10 } })
  const ada = await h.createUser()
  const socket = connect(t, h.gateways[0]!, '/ws/', ada)
  await socket.opened
  for (let index = 0; index < 30; index++) socket.send({ type: 'ping' })
  t.equal((await socket.closed).code, closeCodes.rateLimited)
  t.ok(socket.frames.filter((frame) => frame.type === 'pong').length <= 10, 'at most the burst was answered')
})

test('a frame over the size limit closes the socket with 1009', async (t) => {
  const h = await build(t, { gateway: { maxFrameBytes: 2048 } })
  const ada = await h.createUser()
  const socket = connect(t, h.gateways[0]!, '/ws/', ada)
  await socket.opened
  socket.send({ type: 'message', room_id: '0190a0a0-0000-7000-8000-000000000000', text: 'x'.repeat(4096) })
  t.equal((await socket.closed).code, 1009)
})

test('a peer that stops answering pings is dropped', async (t) => {
  const h = await build(t, { gateway: { heartbeatMs: 100 } })
  const ada = await h.createUser()
  const socket = connect(t, h.gateways[0]!, '/ws/', ada)
  await socket.opened
  socket.ws.pong = () => undefined
  // ws answers pings itself; stop it by removing its automatic pong path.
  ;(socket.ws as unknown as { _autoPong: boolean })._autoPong = false
  const { code } = await socket.closed
  t.equal(code, 1006, 'terminated without a close frame')
})

test('closing the gateway closes every socket with 1001', async (t) => {
  const h = await build(t)
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  const socket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  await socket.next('subscribed')
  await h.gateways[0]!.app.close()
  t.equal((await socket.closed).code, closeCodes.goingAway)
})

test('a slow consumer is closed with 4408 and resumes with after_seq without losing anything', async (t) => {
  const h = await build(t, { gateway: { sendQueueBytes: 64 * 1024 } })
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  const slow = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  await slow.next('subscribed')
  const tcp = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
  tcp.pause()
  // 16 KB frames (4-byte characters), 10 MB in all: more than the kernel's socket buffers hold.
  const total = 600
  for (let index = 0; index < total; index++) await h.send(ada, roomId, `${index} ${'😀'.repeat(3990)}`)
  tcp.resume()
  const { code } = await slow.closed
  // The 4408 frame waits behind the megabytes the client has not read: on a busy
  // machine the close handshake may time out first, and the client sees 1006.
  t.equal(h.gateways[0]!.app.realtime.stats.serverCloses.get(closeCodes.tooSlow), 1, 'the gateway closed it for slowness (4408)')
  t.ok(code === closeCodes.tooSlow || code === 1006, `the client saw 4408, or 1006 when the close handshake timed out (saw ${code})`)
  const received = seqsOf(slow, roomId)
  t.ok(received.length < total, `closed after ${received.length} of ${total} events`)
  t.same(received, range(1, received.length), 'what arrived before the close is in order')
  const resumed = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada, { query: { after_seq: String(received.at(-1) ?? 0) } })
  await resumed.next('subscribed')
  t.same([...received, ...seqsOf(resumed, roomId)], range(1, total), 'together: every event once, in order')
})

test('a socket whose access token expires is closed with 4401 at the next heartbeat, so the client reconnects with a fresh token', async (t) => {
  const h = await build(t, { gateway: { heartbeatMs: 100 } })
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  const shortLived = createTokenSigner(h.signer.key, 1).sign({ id: ada.id, displayName: ada.display_name }).token
  const socket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada, { token: shortLived })
  await socket.next('subscribed')
  const { code, reason } = await socket.closed
  t.equal(code, closeCodes.unauthenticated)
  t.equal(reason, 'token expired')
  const fresh = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  t.match(await fresh.next('subscribed'), { room_id: roomId }, 'a fresh token opens a new socket')
})

test('room.joined: a user added to a room is told on their /ws/ sockets, then subscribes and follows it', async (t) => {
  const h = await build(t)
  const [ada, bob, cyd] = [await h.createUser('Ada'), await h.createUser('Bob'), await h.createUser('Cyd')]
  const bobAll = connect(t, h.gateways[0]!, '/ws/', bob)
  const cydAll = connect(t, h.gateways[0]!, '/ws/', cyd)
  for (const socket of [bobAll, cydAll]) {
    socket.send({ type: 'ping', ref: 'ready' })
    await socket.next('pong')
  }
  const created = await h.rooms.inject({
    method: 'POST',
    url: '/chatrooms/',
    headers: { authorization: `Bearer ${ada.token}` },
    payload: { name: 'New', participants_display_names: ['Bob'] }
  })
  t.equal(created.statusCode, 201)
  const roomId = created.json<{ id: string }>().id
  t.same(await bobAll.next('room.joined'), { type: 'room.joined', room_id: roomId })
  bobAll.send({ type: 'subscribe', room_id: roomId, after_seq: 0 })
  await bobAll.next('subscribed')
  t.match(bobAll.events(roomId), [{ type: 'participants.added', seq: 1 }], 'the event that added bob, from the store')

  const added = await h.rooms.inject({
    method: 'POST',
    url: `/chatrooms/${roomId}/add_user/`,
    headers: { authorization: `Bearer ${bob.token}` },
    payload: { user_display_names: ['Cyd'] }
  })
  t.equal(added.statusCode, 200)
  t.same(await cydAll.next('room.joined'), { type: 'room.joined', room_id: roomId })
  await bobAll.until(() => seqsOf(bobAll, roomId).length === 2)
  t.equal(bobAll.frames.filter((frame) => frame.type === 'room.joined').length, 1, 'no notice for a room the socket already watches')
  t.notOk('seq' in (cydAll.frames.find((frame) => frame.type === 'room.joined') ?? {}), 'not a room event: no seq')
})

for (const transport of ['memory', 'nats'] as const) {
  test(`room.joined (${transport}): the creator's other devices are told of a room or a direct room they made`, async (t) => {
    const h = await build(t, { transport, gateways: 2 })
    const [ada, bob] = [await h.createUser('Ada'), await h.createUser('Bob')]
    const adaSockets = [connect(t, h.gateways[0]!, '/ws/', ada), connect(t, h.gateways[1]!, '/ws/', ada)]
    const bobAll = connect(t, h.gateways[1]!, '/ws/', bob)
    for (const socket of [...adaSockets, bobAll]) {
      socket.send({ type: 'ping', ref: 'ready' })
      await socket.next('pong')
    }
    const alone = await h.rooms.inject({
      method: 'POST',
      url: '/chatrooms/',
      headers: { authorization: `Bearer ${ada.token}` },
      payload: { name: 'Notes to self', participants_display_names: [] }
    })
    t.equal(alone.statusCode, 201)
    const aloneId = alone.json<{ id: string }>().id
    for (const socket of adaSockets) t.same(await socket.next('room.joined'), { type: 'room.joined', room_id: aloneId }, 'a room made alone has no event, yet every device hears of it')

    const direct = await h.rooms.inject({ method: 'POST', url: '/direct/', headers: { authorization: `Bearer ${ada.token}` }, payload: { display_name: 'Bob' } })
    t.equal(direct.statusCode, 201)
    const directId = direct.json<{ id: string }>().id
    for (const socket of adaSockets) await socket.until(() => socket.frames.some((frame) => frame.type === 'room.joined' && frame.room_id === directId))
    t.same(await bobAll.next('room.joined'), { type: 'room.joined', room_id: directId }, 'the other participant, from participants.added')
    const again = await h.rooms.inject({ method: 'POST', url: '/direct/', headers: { authorization: `Bearer ${bob.token}` }, payload: { display_name: 'Ada' } })
    t.equal(again.statusCode, 200, 'the existing direct room')
    adaSockets[0]!.send({ type: 'ping', ref: 'after' })
    await adaSockets[0]!.next('pong')
    t.equal(adaSockets[0]!.frames.filter((frame) => frame.type === 'room.joined').length, 2, 'no notice when nothing was made')
  })

  test(`mention (${transport}): a reply sent as a frame mentions a user, whose /ws/ sockets are told without subscribing`, async (t) => {
    const h = await build(t, { transport, gateways: 2 })
    const [ada, bob, cyd] = [await h.createUser('Ada'), await h.createUser('Bob Marley'), await h.createUser('Cyd')]
    const roomId = await h.createRoom(ada, [bob, cyd])
    const root = await h.send(bob, roomId, 'root')
    // Bob on both gateways, subscribed to nothing; Cyd is not mentioned.
    const bobSockets = [connect(t, h.gateways[0]!, '/ws/', bob), connect(t, h.gateways[1]!, '/ws/', bob)]
    const cydAll = connect(t, h.gateways[1]!, '/ws/', cyd)
    for (const socket of [...bobSockets, cydAll]) {
      socket.send({ type: 'ping', ref: 'ready' })
      await socket.next('pong')
    }
    const adaRoom = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
    await adaRoom.next('subscribed')
    adaRoom.send({ type: 'message', text: 'agreed, @"bob marley"', ref: 'r-1', reply_to: root.id })
    const ack = await adaRoom.next('ack')
    t.match(ack, { ref: 'r-1', message: { reply_to: root.id, mentions: [{ id: bob.id, display_name: 'Bob Marley' }] } })
    const created = await adaRoom.next('message.created')
    t.same(created.thread_root, { id: root.id, reply_count: 1, last_reply_at: ack.message.created_at }, 'the root\'s counts in the reply\'s event')
    for (const socket of bobSockets) {
      const notice = await socket.next('mention')
      t.same(notice, { type: 'mention', room_id: roomId, message: ack.message }, 'the mention frame, no seq')
    }
    adaRoom.send({ type: 'message', text: 'by id', mentions: [cyd.id], ref: 'r-2' })
    t.match(await cydAll.next('mention'), { room_id: roomId, message: { text: 'by id' } }, 'client-given ids are mentions too')
    adaRoom.send({ type: 'message', text: 'bad reply', reply_to: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f', ref: 'r-3' })
    t.match(await adaRoom.next('error'), { ref: 'r-3', code: 'reply_to_not_found' })
    t.equal(cydAll.frames.filter((frame) => frame.type === 'mention').length, 1)
    t.notOk(bobSockets.some((socket) => socket.frames.some((frame) => frame.type === 'message.created')), 'no room events without a subscription')
  })
}

test('typing needs a subscription whose participation check passed: an outsider cannot type into a room', async (t) => {
  const h = await build(t)
  const [ada, eve] = [await h.createUser('Ada'), await h.createUser('Eve')]
  const roomId = await h.createRoom(ada)
  const adaSocket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  await adaSocket.next('subscribed')
  const eveAll = connect(t, h.gateways[0]!, '/ws/', eve)
  eveAll.send({ type: 'subscribe', room_id: roomId, ref: 's' })
  eveAll.send({ type: 'typing', room_id: roomId })
  await eveAll.next('error', (frame) => frame.ref === 's')
  const eveRoom = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, eve)
  eveRoom.send({ type: 'typing' })
  t.equal((await eveRoom.closed).code, closeCodes.notAParticipant)
  adaSocket.send({ type: 'ping', ref: 'after' })
  await adaSocket.next('pong')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(adaSocket.frames.filter((frame) => frame.type === 'typing'), [], 'no typing notice of Eve reached the room')
})

test('an event the bus never delivered reaches a quiet room from the store (reconciliation)', async (t) => {
  const h = await build(t, { gateway: { reconcileMs: 100 } })
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  const socket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  await socket.next('subscribed')
  await h.send(ada, roomId, 'one')
  await socket.until(() => seqsOf(socket, roomId).length === 1)
  // Committed, but its publish was lost, and nothing else happens in the room.
  await h.db.transaction().execute(async (trx) => {
    const room = await trx.updateTable('rooms').set((eb) => ({ last_seq: eb('last_seq', '+', 1) })).where('id', '=', roomId).returning('last_seq').executeTakeFirstOrThrow()
    await trx
      .insertInto('room_events')
      .values({ room_id: roomId, seq: room.last_seq, type: 'message.deleted', payload: JSON.stringify({ type: 'message.deleted', room_id: roomId, seq: room.last_seq, message_id: '0190a0a0-0000-7000-8000-000000000003' }) })
      .execute()
  })
  await socket.until(() => seqsOf(socket, roomId).length === 2, 5_000, 'the lost event')
  t.same(seqsOf(socket, roomId), [1, 2])
  t.ok(h.gateways[0]!.app.realtime.stats.catchUps >= 1, 'it came by the catch-up path')
})

test('an idle socket keeps nothing of its upgrade request (the ServerResponse, the request and its logger)', async (t) => {
  const h = await build(t)
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  const socket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  await socket.next('subscribed')
  const [connection] = [...h.gateways[0]!.app.realtime.connections]
  const tcp = (connection!.socket as unknown as { _socket: { _httpMessage?: unknown } })._socket
  t.notOk(tcp._httpMessage, 'the TCP socket no longer points at the upgrade ServerResponse')
  t.equal(connection!.socket.listenerCount('error'), 1, "only the connection's own error listener, none holding the request")
})

test('an outsider\'s subscribe is refused before the gateway subscribes to the room on the bus', async (t) => {
  const h = await build(t)
  const [ada, eve] = [await h.createUser(), await h.createUser()]
  const roomIds = [await h.createRoom(ada), await h.createRoom(ada), await h.createRoom(ada), await h.createRoom(ada), await h.createRoom(ada)]
  const eveAll = connect(t, h.gateways[0]!, '/ws/', eve)
  for (const [index, roomId] of roomIds.entries()) eveAll.send({ type: 'subscribe', room_id: roomId, ref: `s${index}` })
  await eveAll.until((frames) => frames.filter((frame) => frame.type === 'error').length === 5)
  t.equal(h.gateways[0]!.app.realtime.stats.channelsOpened, 0, 'no bus subscription was taken for any of the rooms')
})
