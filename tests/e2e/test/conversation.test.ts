// A whole conversation in the services mode, as a user of @chat/client sees
// it: every call goes through the nginx gateway to the five services
// (identity, rooms, messages, reactions, two realtime replicas), except two
// sockets that are connected directly to the two realtime replicas, so that
// the test can tell the replicas apart and prove they deliver the same
// sequence of room events.
//
// The room's events, in the order this file makes them:
//    1 participants.added   Bob, with the room
//    2 participants.added   Cy (the attempt with an unknown name adds nobody)
//    3 room.updated         avatar
//    4 message.created      Ada over HTTP (its repeat takes no seq)
//    5 message.created      Bob over his socket
//    6 reaction.updated     Bob likes message 4
//    7 reaction.updated     Bob changes it to love
//    8 reaction.updated     Ada likes message 4
//    9 message.updated      Ada edits message 4
//   10 message.deleted      Bob deletes message 5
//   11..14 message.created  over HTTP while Ada's gateway socket is closed
//   15 message.created      Ada, live on the resumed socket
//   16 participants.removed Cy leaves
//   17 message.created      Ada, after Cy left
import t from 'tap'
import { WebSocket } from 'ws'
import {
  ChatApiError,
  type ChatSocketError,
  createChatClient,
  type ChatClient,
  type ChatSocket,
  type ConnectionState,
  type Message,
  type Room,
  type RoomEventFrame,
  type ServerFrame,
  type Session,
  type SubscribedFrame,
  type WebSocketConstructor
} from '@chat/client'
import { pngFile, pngScanlines } from '@chat/service-kit/testing'
import { startServicesMode } from './helper.js'

const password = 'correct horse battery'

/** The ChatApiError of a call that must fail. */
async function failure(promise: Promise<unknown>): Promise<ChatApiError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ChatApiError) return error
    throw error
  }
  throw new Error('expected a ChatApiError, the call succeeded')
}

/** A width x height RGB PNG (a gradient), written by hand: no image library needed. */
function tinyPng(width: number, height: number): Uint8Array {
  const rows = pngScanlines(width, height, (x, y) => [Math.round((x / width) * 255), Math.round((y / height) * 255), 160])
  return new Uint8Array(pngFile(width, height, rows))
}

/**
 * A socket of the client with everything it reports, plus the raw frames the
 * server sent (through a `ws` WebSocket that records them before the client
 * sees them), so that "each seq once" is checked on the wire, not only after
 * the client's own de-duplication.
 */
interface Watched {
  socket: ChatSocket
  /** Room events as the client delivered them. */
  events: RoomEventFrame[]
  /** Every server frame, as sent. */
  raw: ServerFrame[]
  subscribed: SubscribedFrame[]
  errors: ChatSocketError[]
  states: ConnectionState[]
}

function recordingWebSocket(raw: ServerFrame[]): WebSocketConstructor {
  return class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      this.addEventListener('message', (event) => {
        raw.push(JSON.parse(event.data as string) as ServerFrame)
      })
    }
  }
}

const openSockets: ChatSocket[] = []

function watch(client: ChatClient, options: { roomId?: string; afterSeq?: number } = {}): Watched {
  const raw: ServerFrame[] = []
  const socket = client.connect({ ...options, WebSocket: recordingWebSocket(raw) })
  openSockets.push(socket)
  const watched: Watched = { socket, events: [], raw, subscribed: [], errors: [], states: [] }
  socket.on('event', (frame) => watched.events.push(frame))
  socket.on('subscribed', (frame) => watched.subscribed.push(frame))
  socket.on('error', (error) => watched.errors.push(error))
  socket.on('state', (state) => watched.states.push(state))
  return watched
}

/** Waits until `ready()` holds (polling), or fails with `what` after `timeoutMs`. */
async function until(what: string, ready: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((wake) => setTimeout(wake, 20))
  }
}

const lastSeqOf = (watched: Watched, roomId: string): number => watched.events.filter((event) => event.room_id === roomId).at(-1)?.seq ?? 0
const roomEvents = (frames: ServerFrame[], roomId: string): RoomEventFrame[] =>
  frames.filter((frame): frame is RoomEventFrame => 'seq' in frame && frame.room_id === roomId)
const sequence = (events: RoomEventFrame[]): string[] => events.map((event) => `${event.seq} ${event.type}`)
const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index)

await t.test('a whole conversation through the gateway, all five services', async (t) => {
  const started = Date.now()
  // A NATS server of its own: on the shared one, another messages service
  // (a parallel test file, another checkout) may answer this run's socket
  // messages (svc.messages.send has no namespace) from another database.
  const mode = await startServicesMode(t, { nats: 'private' })
  if (!mode) return
  t.comment(`services mode up in ${Date.now() - started} ms`)
  t.teardown(() => {
    for (const socket of openSockets) socket.close()
  })

  const gateway = mode.gatewayUrl
  if (!gateway) throw new Error('the services mode runs without its gateway')
  const replicas = mode.services.filter((service) => service.name.startsWith('realtime-'))
  t.same(replicas.map((replica) => replica.name), ['realtime-1', 'realtime-2'], 'two realtime replicas, each on its own port')
  t.not(replicas[0]?.url, replicas[1]?.url)

  const client = (baseUrl = gateway, session?: Session | null): ChatClient => createChatClient({ baseUrl, WebSocket, session })
  const ada = client()
  const bob = client()
  const cy = client()

  let room!: Room
  let hello!: Message
  let fromSocket!: Message
  // Ada and Bob watch the room from the start, each socket directly on a
  // different replica (both direct, not one through the gateway: nginx picks
  // a replica by itself, so only direct connections show that two replicas
  // are involved). Ada also watches through the gateway: that socket is the
  // one closed and resumed.
  let onReplica1!: Watched
  let onReplica2!: Watched
  let viaGateway!: Watched

  await t.test('register, login, refresh, me, search', async (t) => {
    const registered = await ada.auth.register({ display_name: 'Ada Lovelace', password })
    t.match(registered, { user: { display_name: 'Ada Lovelace', id: String }, access_token: String, refresh_token: String, token_type: 'Bearer' })
    t.ok(registered.expires_in > 0, 'expires_in is positive')
    t.match(await bob.auth.register({ display_name: 'Bob', password }), { user: { display_name: 'Bob' } })
    t.match(await cy.auth.register({ display_name: 'Cy "the <b>"', password }), { user: { display_name: 'Cy "the <b>"' } }, 'markup and quotes come back unchanged')
    t.match(await failure(client().auth.register({ display_name: 'BOB', password })), { status: 409, code: 'display_name_taken' })

    // Login with the name in other letter case: the same user.
    const other = client()
    const login = await other.auth.login({ display_name: 'ada lovelace', password })
    t.equal(login.user.id, registered.user.id, 'login is case-insensitive on the display name')
    t.match(await failure(client().auth.login({ display_name: 'Ada Lovelace', password: 'wrong password' })), { status: 401, code: 'invalid_credentials' })
    t.match(await failure(client().auth.login({ display_name: 'Nobody', password })), { status: 401, code: 'invalid_credentials' }, 'the same answer for an unknown name')

    // Rotation, on that second session (re-using its rotated token revokes
    // its whole family, which must not touch Ada's main session).
    const refreshed = await other.auth.refresh()
    t.not(refreshed.refresh_token, login.refresh_token, 'refresh rotates the refresh token')
    t.not(refreshed.access_token, login.access_token, 'and issues a new access token')
    t.equal(other.session, refreshed)
    t.equal((await other.users.me()).id, registered.user.id, 'the new access token works')
    const stale = client(gateway, login)
    t.match(await failure(stale.auth.refresh()), { status: 401 }, 'the old refresh token then fails with 401')
    t.equal(stale.session, null, 'and the client forgets the refused session')
    t.match(await failure(client(gateway, { ...refreshed, access_token: 'x' }).auth.refresh()), { status: 401 }, 're-using a rotated token revoked the family')

    const me = await ada.users.me()
    t.same(me, { ...registered.user, rooms_invite: 'anyone' }, 'users.me is the registered user, with its settings')
    t.match(me, { id: registered.user.id, display_name: 'Ada Lovelace', created_at: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/ })
    t.same((await ada.users.search('bo')).map((user) => user.display_name), ['Bob'])
    t.same((await ada.users.search('BO', { limit: 5 })).map((user) => user.display_name), ['Bob'], 'search is case-insensitive')
    t.same((await ada.users.search('cy "the <')).map((user) => user.display_name), ['Cy "the <b>"'])
    t.same(await ada.users.search('zz'), [], 'no match, empty list')
    t.match(await failure(client().users.me()), { status: 401, code: 'unauthenticated' }, 'no token: 401')
  })

  await t.test('create a room, list it, get it', async (t) => {
    room = await ada.rooms.create({ name: 'Tea at four', participants_display_names: ['bob', 'Ada Lovelace'] })
    t.match(room, {
      name: 'Tea at four',
      created_by: { display_name: 'Ada Lovelace' },
      avatar_url: null,
      last_seq: 1,
      last_read_seq: 0,
      unread_count: 0
    })
    t.same(
      room.participants.map((participant) => [participant.display_name, participant.role]).sort(),
      [['Ada Lovelace', 'owner'], ['Bob', 'member']],
      'the creator is the owner, Bob (named in other case) a member, the own name ignored'
    )

    // From here on, Ada and Bob watch the room from seq 0 on both replicas.
    onReplica1 = watch(client(replicas[0]!.url, ada.session))
    onReplica2 = watch(client(replicas[1]!.url, bob.session))
    viaGateway = watch(ada)
    for (const watched of [onReplica1, onReplica2, viaGateway]) watched.socket.subscribe(room.id, { afterSeq: 0 })

    const adaRooms = await ada.rooms.list()
    t.same(adaRooms.rooms.map((listed) => listed.id), [room.id], "Ada's rooms")
    const bobRooms = await bob.rooms.list()
    t.match(bobRooms.rooms, [{ id: room.id, name: 'Tea at four', last_seq: 1 }], "Bob's rooms")
    t.same(await cy.rooms.list(), { rooms: [] }, 'Cy participates in nothing yet')

    const got = await bob.rooms.get(room.id)
    t.match(got, { id: room.id, name: 'Tea at four', created_by: { id: room.created_by.id }, last_seq: 1 })
    t.match(await failure(cy.rooms.get(room.id)), { status: 403, code: 'not_a_member' }, 'an outsider gets 403')
    t.match(await failure(ada.rooms.get('0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f')), { status: 404 }, 'an unknown room is 404')

    await until('both replicas and the gateway socket to be subscribed', () =>
      [onReplica1, onReplica2, viaGateway].every((watched) => watched.subscribed.length === 1)
    )
    for (const watched of [onReplica1, onReplica2, viaGateway]) {
      t.same(sequence(watched.events), ['1 participants.added'], 'the stored event replayed first')
      t.match(watched.subscribed[0], { room_id: room.id, last_seq: 1 })
    }
  })

  await t.test('add users: an unknown name adds nobody, then Cy', async (t) => {
    const refused = await failure(ada.rooms.addUsers(room.id, ['Cy "the <b>"', 'No Such Person']))
    t.match(refused, { status: 400, code: 'users_not_found' })
    t.same(refused.notFound, ['No Such Person'], 'not_found names the unknown name only')
    const unchanged = await ada.rooms.get(room.id)
    t.equal(unchanged.participants.length, 2, 'nobody was added, Cy neither')
    t.equal(unchanged.last_seq, 1, 'and no event was written')

    const added = await bob.rooms.addUsers(room.id, ['Cy "the <b>"', 'Ada Lovelace'])
    t.same(added.participants.map((participant) => participant.display_name).sort(), ['Ada Lovelace', 'Bob', 'Cy "the <b>"'], 'any participant may add; existing ones are ignored')
    t.equal(added.last_seq, 2)
    t.match(await cy.rooms.get(room.id), { id: room.id, participants: Array })
  })

  await t.test('avatar: upload a PNG, fetch WebP, 304 on its ETag', async (t) => {
    const avatar = await ada.rooms.avatar.upload(room.id, tinyPng(64, 48), 'tiny.png')
    t.match(avatar, { room_id: room.id, content_type: 'image/webp', width: 64, height: 48, etag: String, avatar_url: String })
    t.ok(avatar.size > 0, 'a size')

    const fetched = await bob.rooms.avatar.fetch(room.id)
    if (fetched.notModified) throw new Error('expected the bytes, got 304')
    t.equal(fetched.contentType, 'image/webp', 'served as WebP')
    t.equal(fetched.etag, avatar.etag, 'the ETag of the upload')
    t.equal(fetched.bytes.length, avatar.size)
    t.equal(Buffer.from(fetched.bytes.subarray(0, 4)).toString('latin1'), 'RIFF')
    t.equal(Buffer.from(fetched.bytes.subarray(8, 12)).toString('latin1'), 'WEBP', 'the bytes are WebP')

    const again = await bob.rooms.avatar.fetch(room.id, { etag: fetched.etag! })
    t.same(again, { notModified: true, etag: avatar.etag }, '304 Not Modified with If-None-Match')

    const withAvatar = await ada.rooms.get(room.id)
    t.equal(withAvatar.avatar_url, avatar.avatar_url, 'the room names its avatar')
    t.equal(withAvatar.last_seq, 3, 'room.updated took seq 3')

    const notImage = await failure(ada.rooms.avatar.upload(room.id, new TextEncoder().encode('not an image at all'), 'fake.png'))
    t.match(notImage, { status: 415, code: 'unsupported_media_type' }, 'the type comes from the bytes, not the name')
  })

  await t.test('messages over HTTP and over the socket', async (t) => {
    const sent = await ada.messages.send(room.id, { text: '  hello Bob <b>!</b>  ', client_msg_id: 'ada-1' })
    t.equal(sent.created, true, '201 for a new message')
    hello = sent.message
    t.match(hello, { room_id: room.id, seq: 4, sender: { display_name: 'Ada Lovelace' }, text: '  hello Bob <b>!</b>  ', client_msg_id: 'ada-1', edited_at: null, deleted: false, my_reaction: null })
    t.same(hello.reactions, {})

    const repeated = await ada.messages.send(room.id, { text: 'hello Bob (retry)', client_msg_id: 'ada-1' })
    t.equal(repeated.created, false, '200 for a repeated client_msg_id')
    t.same(repeated.message, hello, 'the stored message comes back unchanged')

    t.match(await failure(ada.messages.send(room.id, { text: '   ' })), { status: 400 }, 'blank text is a 400')
    t.match(await failure(cy.messages.send(room.id, { text: 'x'.repeat(4001) })), { status: 400 }, 'over 4000 characters is a 400')

    await until("Bob's socket to be open", () => onReplica2.socket.state === 'open')
    fromSocket = await onReplica2.socket.sendMessage(room.id, 'hi Ada, over the socket', { clientMsgId: 'bob-1' })
    t.match(fromSocket, { room_id: room.id, seq: 5, sender: { display_name: 'Bob' }, text: 'hi Ada, over the socket', client_msg_id: 'bob-1' }, 'acked with the stored message')

    const page = await cy.messages.list(room.id)
    t.same(page.messages.map((message) => [message.seq, message.text]), [[4, hello.text], [5, fromSocket.text]], 'both messages, in seq order')
    t.notOk(page.prev, 'no older page')
    const latest = await cy.messages.list(room.id, { limit: 1 })
    t.same(latest.messages.map((message) => message.seq), [5], 'limit 1 gives the latest')
    t.match(latest.prev, { before_seq: 5 }, 'with a prev page')
    t.same((await cy.messages.list(room.id, latest.prev)).messages.map((message) => message.seq), [4])
  })

  await t.test('reactions and emoji', async (t) => {
    const emoji = await bob.emoji()
    t.same(emoji.map((entry) => entry.name), ['like', 'love', 'laugh', 'wow', 'sad', 'angry'])
    t.match(emoji[0], { name: 'like', emoji: '👍', label: String })

    const first = await bob.reactions.set(hello.id, 'like')
    t.equal(first.created, true, '201 for a new reaction')
    t.match(first.reaction, { message_id: hello.id, user: { display_name: 'Bob' }, reaction: 'like' })
    const replaced = await bob.reactions.set(hello.id, 'love')
    t.equal(replaced.created, false, '200 when it replaces the earlier one')
    t.equal(replaced.reaction.reaction, 'love')
    t.equal((await ada.reactions.set(hello.id, 'like')).created, true)

    const invalid = await failure(ada.reactions.set(hello.id, 'thumbs'))
    t.match(invalid, { status: 400, code: 'invalid_reaction' })
    t.same(invalid.allowed, emoji.map((entry) => entry.name), 'allowed lists the emoji names')

    const listed = await cy.reactions.list(hello.id)
    t.same(listed.map((reaction) => [reaction.user.display_name, reaction.reaction]).sort(), [['Ada Lovelace', 'like'], ['Bob', 'love']], 'one reaction per user')

    const asBob = (await bob.messages.list(room.id)).messages.find((message) => message.id === hello.id)
    t.same(asBob?.reactions, { like: 1, love: 1 }, 'counts in messages.list')
    t.equal(asBob?.my_reaction, 'love', "Bob's own reaction")
    t.equal((await ada.messages.list(room.id)).messages.find((message) => message.id === hello.id)?.my_reaction, 'like', "Ada's own reaction")
    t.equal((await cy.messages.list(room.id)).messages.find((message) => message.id === hello.id)?.my_reaction, null, 'Cy has none')
    t.match(await failure(cy.reactions.remove(hello.id)), { status: 404, code: 'reaction_not_found' })
  })

  await t.test('edit and delete, sender only', async (t) => {
    t.match(await failure(bob.messages.edit(room.id, hello.id, 'Bob was here')), { status: 403, code: 'not_sender' }, "Bob cannot edit Ada's message")
    t.match(await failure(ada.messages.delete(room.id, fromSocket.id)), { status: 403, code: 'not_sender' }, "Ada cannot delete Bob's message")

    const edited = await ada.messages.edit(room.id, hello.id, 'hello Bob, edited')
    t.match(edited, { id: hello.id, seq: hello.seq, text: 'hello Bob, edited', edited_at: String, deleted: false })
    await bob.messages.delete(room.id, fromSocket.id)

    const page = await ada.messages.list(room.id)
    t.match(page.messages.find((message) => message.id === hello.id), { text: 'hello Bob, edited', edited_at: String })
    t.match(page.messages.find((message) => message.id === fromSocket.id), { seq: fromSocket.seq, deleted: true, text: '' }, 'a deleted message keeps its place')
    t.equal((await ada.rooms.get(room.id)).last_seq, 10)
  })

  await t.test('resume after a disconnect: each missed event once, in order', async (t) => {
    await until('the gateway socket to see seq 10', () => lastSeqOf(viaGateway, room.id) === 10)
    const lastSeen = lastSeqOf(viaGateway, room.id)
    viaGateway.socket.close()
    t.equal(viaGateway.socket.state, 'closed')

    const missed = [
      await bob.messages.send(room.id, { text: 'are you there?' }),
      await bob.messages.send(room.id, { text: 'Ada?' }),
      await cy.messages.send(room.id, { text: 'she stepped out' }),
      await bob.messages.send(room.id, { text: 'ok, later then' })
    ].map(({ message }) => message)
    t.same(missed.map((message) => message.seq), [11, 12, 13, 14])

    const resumed = watch(ada)
    resumed.socket.subscribe(room.id, { afterSeq: lastSeen })
    await until('the resumed subscription', () => resumed.subscribed.length === 1)
    t.same(resumed.subscribed[0], { type: 'subscribed', room_id: room.id, last_seq: 14 }, 'subscribed with the latest seq')

    // On the wire: the missed events, then `subscribed`, nothing else.
    const wire = resumed.raw.map((frame) => ('seq' in frame ? `${frame.seq} ${frame.type}` : frame.type))
    t.same(wire, ['11 message.created', '12 message.created', '13 message.created', '14 message.created', 'subscribed'], 'the server sent each missed event once, in order, then subscribed')
    t.same(resumed.events.map((event) => (event.type === 'message.created' ? event.message.text : event.type)), missed.map((message) => message.text), 'the client delivered them')

    const live = await ada.messages.send(room.id, { text: 'back now' })
    await until('the live message on the resumed socket', () => lastSeqOf(resumed, room.id) === 15)
    t.same(sequence(roomEvents(resumed.raw, room.id)), ['11 message.created', '12 message.created', '13 message.created', '14 message.created', '15 message.created'], 'then the live one, no duplicate')
    t.match(resumed.events.at(-1), { type: 'message.created', seq: 15, message: { id: live.message.id } })
    resumed.socket.close()
  })

  await t.test('read position and unread count', async (t) => {
    const before = await ada.rooms.get(room.id)
    t.match(before, { last_seq: 15, last_read_seq: 0, unread_count: 4 }, "Ada has 4 unread: Bob's and Cy's, the deleted one not counted")
    t.match(await bob.rooms.get(room.id), { last_read_seq: 0, unread_count: 3 }, "Bob's unread: Ada's two and Cy's one")

    t.same(await ada.rooms.markRead(room.id, 12), { last_read_seq: 12, unread_count: 2, unread_mentions: 0 })
    t.same(await ada.rooms.markRead(room.id, 5), { last_read_seq: 12, unread_count: 2, unread_mentions: 0 }, 'it never moves backwards')
    t.same(await ada.rooms.markRead(room.id, 1_000), { last_read_seq: 15, unread_count: 0, unread_mentions: 0 }, 'past last_seq: clamped')
    t.match((await ada.rooms.list()).rooms, [{ id: room.id, last_read_seq: 15, unread_count: 0 }], 'rooms.list shows it')
    t.match(await bob.rooms.get(room.id), { unread_count: 3 }, "Ada's read position is her own")
    t.equal((await ada.rooms.get(room.id)).last_seq, 15, 'a read position takes no seq')
  })

  await t.test('leaving ends the leaver\'s subscriptions', async (t) => {
    // Cy watches through the gateway, on a room socket (resuming at 14) and on /ws/.
    const cyRoomSocket = watch(cy, { roomId: room.id, afterSeq: 14 })
    const cyMulti = watch(cy)
    cyMulti.socket.subscribe(room.id, { afterSeq: 15 })
    await until("Cy's sockets to be live", () => cyRoomSocket.subscribed.length === 1 && cyMulti.subscribed.length === 1)
    t.same(sequence(cyRoomSocket.events), ['15 message.created'], 'the room socket resumed after 14')

    await cy.rooms.leave(room.id)
    await until("Cy's room socket to close", () => cyRoomSocket.socket.state === 'closed')
    t.same(sequence(cyRoomSocket.events), ['15 message.created', '16 participants.removed'], 'the room socket sees its own removal last')
    t.match(cyRoomSocket.errors, [{ code: 'not_a_member', closeCode: 4403, roomId: room.id }], 'then an error: not_a_member (4403)')
    t.equal(cyRoomSocket.states.at(-1), 'closed', 'and closed for good')

    await until("Cy's /ws/ error", () => cyMulti.errors.length === 1)
    t.same(sequence(cyMulti.events), ['16 participants.removed'])
    t.match(cyMulti.errors[0], { code: 'not_a_member' }, '/ws/ reports not_a_member')
    t.equal(cyMulti.errors[0]?.roomId, room.id, 'the error names the room')
    t.match(cyMulti.raw.at(-1), { type: 'error', code: 'not_a_member', room_id: room.id }, 'the error frame names the room')
    t.equal(cyMulti.socket.state, 'open', 'the /ws/ socket itself stays open')

    const after = await ada.messages.send(room.id, { text: 'bye Cy' })
    t.equal(after.message.seq, 17)
    await until('both replicas to see seq 17', () => lastSeqOf(onReplica1, room.id) === 17 && lastSeqOf(onReplica2, room.id) === 17)
    const pong = await cyMulti.socket.ping()
    t.ok(pong >= 0, 'the /ws/ socket still answers')
    await new Promise((wake) => setTimeout(wake, 200))
    t.same(sequence(roomEvents(cyMulti.raw, room.id)), ['16 participants.removed'], 'nothing of the room reaches Cy after leaving')

    t.match(await failure(cy.rooms.get(room.id)), { status: 403, code: 'not_a_member' })
    t.match(await failure(cy.messages.list(room.id)), { status: 403, code: 'not_a_member' })
    t.same((await ada.rooms.get(room.id)).participants.map((participant) => participant.display_name).sort(), ['Ada Lovelace', 'Bob'])
    cyMulti.socket.close()
  })

  await t.test('a direct room, opened by both at once, and search over the rooms one is in now', async (t) => {
    const [fromAda, fromBob] = await Promise.all([ada.rooms.direct('Bob'), bob.rooms.direct('ada lovelace')])
    t.equal(fromAda.room.id, fromBob.room.id, 'one room')
    t.same([fromAda.created, fromBob.created].sort(), [false, true], 'created once')
    t.match(fromAda.room, { kind: 'direct', name: 'Bob' })
    t.match(fromBob.room, { kind: 'direct', name: 'Ada Lovelace' })
    const direct = fromAda.room
    t.match(await failure(ada.rooms.leave(direct.id)), { status: 409, code: 'direct_room' })
    t.match(await failure(ada.rooms.addUsers(direct.id, ['Cy "the <b>"'])), { status: 409, code: 'direct_room' })
    t.match((await bob.rooms.list()).rooms.map((listed) => [listed.kind, listed.name]), [['direct', 'Ada Lovelace'], ['group', room.name]])

    const lunch = await bob.messages.send(direct.id, { text: 'Lunch at <noon>, Ada?' })
    const found = await ada.search.messages('lunc')
    t.match(found.hits, [{ message: { id: lunch.message.id }, room: { id: direct.id, kind: 'direct', name: 'Bob' }, highlight: { marks: [{ start: 0, end: 5 }] } }])
    t.same((await ada.search.messages('hello bob', { room_id: room.id })).hits.map((hit) => hit.message.id), [hello.id], "the room's message, by its edited text")
    t.same((await cy.search.messages('hello bob')).hits, [], 'Cy left the room: its messages are no longer found')
    t.match(await failure(cy.search.messages('hello', { room_id: room.id })), { status: 403, code: 'not_a_member' })
    t.match(await failure(ada.search.messages('  ')), { status: 400, code: 'validation_failed' })
  })

  await t.test('two replicas delivered exactly the same sequence', async (t) => {
    const lastSeq = (await bob.rooms.get(room.id)).last_seq
    t.equal(lastSeq, 17)
    const expectedTypes = [
      'participants.added', 'participants.added', 'room.updated', 'message.created', 'message.created',
      'reaction.updated', 'reaction.updated', 'reaction.updated', 'message.updated', 'message.deleted',
      'message.created', 'message.created', 'message.created', 'message.created', 'message.created',
      'participants.removed', 'message.created'
    ]
    for (const [name, watched] of [['realtime-1', onReplica1], ['realtime-2', onReplica2]] as const) {
      t.same(watched.events.map((event) => event.seq), range(1, lastSeq), `${name}: seq 1..${lastSeq}, each once`)
      t.same(watched.events.map((event) => event.type), expectedTypes, `${name}: the types of the story`)
      t.same(sequence(roomEvents(watched.raw, room.id)), sequence(watched.events), `${name}: the wire carried no duplicate and no gap`)
      t.notOk(watched.states.includes('reconnecting'), `${name}: never reconnected`)
      t.same(watched.errors, [], `${name}: no error`)
      t.same(watched.raw.filter((frame) => frame.type === 'subscribed').length, 1, `${name}: subscribed once`)
    }
    t.same(onReplica1.events, onReplica2.events, 'the two replicas sent identical frames')
    t.same(sequence(viaGateway.events), sequence(onReplica1.events.slice(0, 10)), 'the gateway socket saw the same first 10')

    // What the frames say matches the store.
    const byType = (type: string): RoomEventFrame[] => onReplica1.events.filter((event) => event.type === type)
    t.match(byType('reaction.updated').map((event) => ('reactions' in event ? event.reactions : null)), [{ like: 1 }, { love: 1 }, { like: 1, love: 1 }])
    t.match(byType('message.deleted'), [{ seq: 10, message_id: fromSocket.id }])
    t.match(byType('participants.removed'), [{ seq: 16, users: [{ display_name: 'Cy "the <b>"' }] }])
  })

  await t.test('logout', async (t) => {
    for (const socket of openSockets) socket.close()
    const adaSession = ada.session
    const sessions: (Session | null)[] = []
    const loggedIn = createChatClient({ baseUrl: gateway, WebSocket, session: adaSession, onSessionChange: (session) => sessions.push(session) })
    await loggedIn.auth.logout()
    t.equal(loggedIn.session, null, 'the session is gone')
    t.same(sessions, [null], 'onSessionChange(null)')
    t.match(await failure(client(gateway, adaSession).auth.refresh()), { status: 401 }, 'its refresh token no longer works')
    await bob.auth.logout()
    t.equal(bob.session, null)
  })
  // The private nats-server runs the shipped deploy/nats/permissions.conf: every step above was within each service's rights.
  t.same(mode.logs.filter((line) => /NATS permissions violation| - (Publish|Subscription) Violation - /.test(line)), [], 'NATS refused nothing the services did')
  t.comment(`conversation done ${Date.now() - started} ms after start`)
})
