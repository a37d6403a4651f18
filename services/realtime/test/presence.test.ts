import { fileURLToPath } from 'node:url'
import { test, type Test } from 'tap'
import { Type } from 'typebox'
import type { Room, ServerFrame } from '@chat/contracts'
import { loadConfig } from '@chat/service-kit'
import { startServiceProcess } from '@chat/service-kit/testing'
import { realtimeSocketConfig } from '../src/config.js'
import { build, connect, natsUrl, type Harness, type TestSocket, type TestUser } from './helper.js'

const gatewayMain = fileURLToPath(new URL('../dist/main.js', import.meta.url))

type PresenceFrame = Extract<ServerFrame, { type: 'presence' }>

function presenceOf(socket: TestSocket, userId?: string): PresenceFrame[] {
  return socket.frames.filter((frame): frame is PresenceFrame => frame.type === 'presence' && (userId === undefined || frame.user.id === userId))
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function getRoom(h: Harness, user: TestUser, roomId: string): Promise<Room> {
  const response = await h.rooms.inject({ method: 'GET', url: `/chatrooms/${roomId}/`, headers: { authorization: `Bearer ${user.token}` } })
  if (response.statusCode !== 200) throw new Error(`GET room answered ${response.statusCode}: ${response.body}`)
  return response.json<Room>()
}

type Participant = Room['participants'][number]

/** Polls the rooms service until the participant is as `wanted` says. */
async function untilParticipant(h: Harness, viewer: TestUser, roomId: string, userId: string, wanted: (participant: Participant) => boolean, what: string): Promise<Participant> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const participant = (await getRoom(h, viewer, roomId)).participants.find((one) => one.id === userId)
    if (participant && wanted(participant)) return participant
    if (Date.now() > deadline) throw new Error(`participant ${userId} never became ${what}: ${JSON.stringify(participant)}`)
    await sleep(100)
  }
}

function untilOnline(h: Harness, viewer: TestUser, roomId: string, userId: string, online: boolean): Promise<Participant> {
  return untilParticipant(h, viewer, roomId, userId, (participant) => participant.online === online, `online=${online}`)
}

/**
 * Offline with a `last_seen_at`: a gateway writes it once it sees her go
 * offline (her last socket closed, or her entry lapsed), and the rooms
 * service, whose own tracker sees the same, may show her offline a moment
 * before the write lands.
 */
function untilSeenOffline(h: Harness, viewer: TestUser, roomId: string, userId: string): Promise<Participant> {
  return untilParticipant(h, viewer, roomId, userId, (participant) => !participant.online && typeof participant.last_seen_at === 'string', 'offline with a last_seen_at')
}

test('presence over two gateways on NATS: frames only to co-members, online in room responses, offline after the debounce', async (t) => {
  const h = await build(t, { transport: 'nats', gateways: 2, gateway: { presenceTtlMs: 3_000, presenceDebounceMs: 500 } })
  const [ada, bob, carol] = [await h.createUser(), await h.createUser(), await h.createUser()]
  const roomId = await h.createRoom(bob, [ada])
  await h.createRoom(carol)
  const bobSocket = connect(t, h.gateways[1]!, '/ws/', bob)
  const carolSocket = connect(t, h.gateways[1]!, '/ws/', carol)
  const bobOnGateway0 = connect(t, h.gateways[0]!, '/ws/', bob)
  for (const socket of [bobSocket, carolSocket, bobOnGateway0]) await socket.opened
  await untilOnline(h, bob, roomId, bob.id, true)

  const before = await untilOnline(h, bob, roomId, ada.id, false)
  t.equal(before.last_seen_at, null, 'never seen yet')
  const adaSocket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  const online = await bobSocket.next('presence', (frame) => frame.user.id === ada.id)
  t.same(online, { type: 'presence', user: { id: ada.id, display_name: ada.display_name, created_at: ada.created_at }, online: true })
  await bobOnGateway0.next('presence', (frame) => frame.user.id === ada.id && frame.online)
  const seen = await untilOnline(h, bob, roomId, ada.id, true)
  t.ok(seen.last_seen_at !== null && Date.now() - Date.parse(seen.last_seen_at!) < 5_000, 'last_seen_at is now while online')
  t.equal(seen.last_read_seq, 0)

  adaSocket.close()
  const offline = await bobSocket.next('presence', (frame) => frame.user.id === ada.id && !frame.online)
  t.equal(offline.online, false)
  const after = await untilSeenOffline(h, bob, roomId, ada.id)
  t.ok(Date.parse(after.last_seen_at!) >= Date.parse(seen.last_seen_at!), 'last_seen_at stored when the last socket closed')
  t.same(presenceOf(carolSocket), [], 'carol shares no room with ada or bob: no presence frames')
  t.same(presenceOf(bobSocket, bob.id), [], 'nobody is told about themselves')
})

test('a reconnect within the debounce, even to another gateway, is no change', async (t) => {
  const h = await build(t, { transport: 'nats', gateways: 2, gateway: { presenceTtlMs: 3_000, presenceDebounceMs: 1_500 } })
  const [ada, bob] = [await h.createUser(), await h.createUser()]
  const roomId = await h.createRoom(bob, [ada])
  const bobSocket = connect(t, h.gateways[1]!, '/ws/', bob)
  await bobSocket.opened
  await untilOnline(h, bob, roomId, bob.id, true)
  const first = connect(t, h.gateways[0]!, '/ws/', ada)
  await bobSocket.next('presence', (frame) => frame.user.id === ada.id && frame.online)
  first.close()
  await first.closed
  await sleep(300)
  const second = connect(t, h.gateways[1]!, '/ws/', ada)
  await second.opened
  // Past the debounce and a whole TTL: still only the one "online".
  await sleep(4_000)
  t.same(presenceOf(bobSocket, ada.id).map((frame) => frame.online), [true])
  await untilOnline(h, bob, roomId, ada.id, true)
  second.close()
  await bobSocket.next('presence', (frame) => frame.user.id === ada.id && !frame.online)
  t.same(presenceOf(bobSocket, ada.id).map((frame) => frame.online), [true, false])
})

async function killedGatewayGoesOffline(t: Test, env: { PRESENCE_TTL_MS?: string }, limitMs: number): Promise<void> {
  // As the gateway process reads it: its environment is this one's with `env` over it.
  const { PRESENCE_TTL_MS: ttlMs } = loadConfig(Type.Object({ PRESENCE_TTL_MS: realtimeSocketConfig.PRESENCE_TTL_MS }), { ...process.env, ...env })
  const h = await build(t, { transport: 'nats', gateways: 1 })
  const [ada, bob] = [await h.createUser(), await h.createUser()]
  const roomId = await h.createRoom(bob, [ada])
  const doomed = await startServiceProcess(gatewayMain, { DATABASE_URL: h.databaseUrl, NATS_URL: natsUrl, JWT_PUBLIC_KEY: h.signer.key.publicKeyPem, ...env })
  t.teardown(() => doomed.child.kill('SIGKILL'))
  const bobSocket = connect(t, h.gateways[0]!, '/ws/', bob)
  await bobSocket.opened
  const gateway = { url: doomed.baseUrl.replace('http', 'ws'), app: h.gateways[0]!.app, bus: h.gateways[0]!.bus }
  const connectedAt = Date.now()
  const adaSocket = connect(t, gateway, '/ws/', ada)
  await bobSocket.next('presence', (frame) => frame.user.id === ada.id && frame.online)
  await untilOnline(h, bob, roomId, ada.id, true)
  const killedAt = Date.now()
  doomed.child.kill('SIGKILL')
  await adaSocket.closed
  await bobSocket.until((frames) => frames.some((frame) => frame.type === 'presence' && frame.user.id === ada.id && !frame.online), limitMs + 5_000, 'ada offline')
  const offlineSeenAt = Date.now()
  const tookMs = offlineSeenAt - killedAt
  t.ok(tookMs <= limitMs, `offline ${tookMs} ms after the kill (limit ${limitMs} ms)`)
  const participant = await untilSeenOffline(h, bob, roomId, ada.id)
  // When the other gateway last heard of her, which is at least a TTL before
  // her entry lapsed, not the lapse. Not "before the kill": an update her
  // gateway sent just before it died can be read just after.
  const seenAt = Date.parse(participant.last_seen_at!)
  t.ok(seenAt >= connectedAt && seenAt <= offlineSeenAt - ttlMs, `last_seen_at, ${seenAt - killedAt} ms from the kill: when her gateway last named her, not the lapse (offline seen ${tookMs} ms after the kill, TTL ${ttlMs} ms)`)
}

test('a gateway process killed with its sockets open: its users go offline when their entries lapse (short TTL)', async (t) => {
  await killedGatewayGoesOffline(t, { PRESENCE_TTL_MS: '2000' }, 4_000)
})

test('the same with the default settings: offline within 30 s', async (t) => {
  await killedGatewayGoesOffline(t, {}, 30_000)
})

test('read receipts: PUT read tells the room\'s sockets on every gateway; GET the room lists each participant\'s last_read_seq', async (t) => {
  const h = await build(t, { transport: 'nats', gateways: 2 })
  const [ada, bob, carol] = [await h.createUser(), await h.createUser(), await h.createUser()]
  const roomId = await h.createRoom(ada, [bob])
  const otherRoom = await h.createRoom(carol, [bob])
  const adaSocket = connect(t, h.gateways[0]!, '/ws/', ada)
  adaSocket.send({ type: 'subscribe', room_id: roomId })
  const bobSocket = connect(t, h.gateways[1]!, `/ws/chat/${roomId}/`, bob)
  const carolSocket = connect(t, h.gateways[1]!, `/ws/chat/${otherRoom}/`, carol)
  for (const socket of [adaSocket, bobSocket, carolSocket]) await socket.next('subscribed')
  await h.send(ada, roomId, 'one')
  await h.send(ada, roomId, 'two')
  await bobSocket.until((frames) => frames.filter((frame) => frame.type === 'message.created').length === 2)

  const response = await h.rooms.inject({ method: 'PUT', url: `/chatrooms/${roomId}/read/`, headers: { authorization: `Bearer ${bob.token}` }, payload: { seq: 2 } })
  t.equal(response.statusCode, 200)
  const read = await adaSocket.next('read')
  t.same(read, { type: 'read', room_id: roomId, user: { id: bob.id, display_name: bob.display_name, created_at: bob.created_at }, last_read_seq: 2 })
  await bobSocket.next('read')
  await sleep(300)
  t.same(carolSocket.frames.filter((frame) => frame.type === 'read'), [], 'another room hears nothing')

  const room = await getRoom(h, ada, roomId)
  const readTo = new Map(room.participants.map((participant) => [participant.id, participant.last_read_seq]))
  t.equal(readTo.get(bob.id), 2, "bob's read position, for ada's \"seen by\"")
  t.equal(typeof readTo.get(ada.id), 'number')
})
