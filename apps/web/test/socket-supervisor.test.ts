import { ChatSocketError, type ChatClient, type ChatSocket, type ConnectionState, type Room, type RoomEventFrame } from '@chat/client'
import t, { type Test } from 'tap'
import { SocketSupervisor, type SocketHooks } from '../src/socket-supervisor.js'
import type { Connection } from '../src/state/chat-state.js'
import type { RoomFrame } from '../src/state/room-events.js'
import { room, user } from './fixtures.js'

type Listener = (...args: never[]) => void

/** The part of ChatSocket the supervisor uses, recording what it is asked. */
class FakeSocket {
  readonly listeners = new Map<string, Listener[]>()
  readonly calls: string[] = []
  readonly lastSeqs = new Map<string, number>()
  state: ConnectionState = 'connecting'
  closed = false

  on(name: string, listener: Listener): () => void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener])
    return () => {}
  }

  fire(name: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(name) ?? []) (listener as (...values: unknown[]) => void)(...args)
  }

  subscribe(roomId: string, options: { afterSeq?: number }): void {
    this.calls.push(`subscribe ${roomId} ${options.afterSeq}`)
  }

  unsubscribe(roomId: string): void {
    this.calls.push(`unsubscribe ${roomId}`)
  }

  resetRoom(roomId: string, lastSeq: number): void {
    this.calls.push(`reset ${roomId} ${lastSeq}`)
  }

  lastSeq(roomId: string): number | undefined {
    return this.lastSeqs.get(roomId)
  }

  typing(roomId: string): boolean {
    this.calls.push(`typing ${roomId}`)
    return this.state === 'open'
  }

  close(): void {
    this.closed = true
  }
}

function setup(t: Test, rooms: Room[], reloadRoom: SocketHooks['reloadRoom'] = async () => undefined) {
  const sockets: FakeSocket[] = []
  const seen: { connection: Connection[]; frames: RoomFrame[]; joined: number; gone: (string | undefined)[]; errors: string[] } = {
    connection: [],
    frames: [],
    joined: 0,
    gone: [],
    errors: []
  }
  let session: object | null = {}
  const client = {
    get session() {
      return session
    },
    connect() {
      const socket = new FakeSocket()
      sockets.push(socket)
      return socket as unknown as ChatSocket
    }
  } as unknown as ChatClient
  const network = new EventTarget()
  const supervisor = new SocketSupervisor(
    client,
    {
      rooms: () => rooms,
      connection: (state) => seen.connection.push(state),
      frame: (frame) => seen.frames.push(frame),
      roomJoined: () => (seen.joined += 1),
      reloadRoom,
      roomGone: (roomId) => seen.gone.push(roomId),
      error: (error) => seen.errors.push(error.code)
    },
    network
  )
  supervisor.start()
  t.teardown(() => supervisor.stop())
  return { supervisor, sockets, seen, network, signOut: () => (session = null) }
}

const ada = user('Ada')

t.test('a new socket subscribes every known room from its last_seq and passes frames on', async (t) => {
  const general = room('general', ada, { last_seq: 4 })
  const { sockets, seen } = setup(t, [general])
  t.equal(sockets.length, 1)
  const socket = sockets[0]!
  t.same(socket.calls, [`subscribe ${general.id} 4`])
  socket.fire('state', 'open')
  const frame: RoomEventFrame = { type: 'message.deleted', room_id: general.id, seq: 5, message_id: general.id }
  socket.fire('event', frame)
  socket.fire('typing', { type: 'typing', room_id: general.id, user: ada, active: true })
  socket.fire('room_joined', { type: 'room.joined', room_id: general.id })
  t.same(seen.connection, ['open'])
  t.same(seen.frames.map((entry) => entry.type), ['message.deleted', 'typing'])
  t.equal(seen.joined, 1)
})

t.test('offline closes the socket and shows reconnecting; online resumes every room where it stopped', async (t) => {
  const general = room('general', ada, { last_seq: 4 })
  const quiet = room('quiet', ada, { last_seq: 2 })
  const { sockets, seen, network } = setup(t, [general, quiet])
  const first = sockets[0]!
  first.lastSeqs.set(general.id, 9)
  network.dispatchEvent(new Event('offline'))
  t.ok(first.closed)
  t.same(seen.connection, ['reconnecting'])
  first.fire('event', { type: 'message.deleted', room_id: general.id, seq: 10, message_id: general.id })
  t.same(seen.frames, [], 'a replaced socket is not listened to')
  network.dispatchEvent(new Event('online'))
  t.equal(sockets.length, 2)
  t.same(sockets[1]!.calls, [`subscribe ${general.id} 9`, `subscribe ${quiet.id} 2`], 'from what the old socket delivered, else the list\'s last_seq')
  network.dispatchEvent(new Event('online'))
  t.equal(sockets.length, 2, 'online with a socket open opens no other')
})

t.test('resync_required: the room is reloaded, then the socket resumes from the reloaded seq', async (t) => {
  const general = room('general', ada, { last_seq: 4 })
  const reloads: string[] = []
  let answer: number | undefined = 30
  const { sockets } = setup(t, [general], async (roomId) => {
    reloads.push(roomId)
    return answer
  })
  const socket = sockets[0]!
  socket.fire('resync_required', { type: 'resync_required', room_id: general.id })
  await new Promise((resolve) => setImmediate(resolve))
  t.same(reloads, [general.id])
  t.same(socket.calls.slice(1), [`reset ${general.id} 30`])
  answer = undefined
  socket.fire('resync_required', { type: 'resync_required', room_id: general.id })
  await new Promise((resolve) => setImmediate(resolve))
  t.same(socket.calls.slice(1), [`reset ${general.id} 30`], 'a failed reload leaves the room held back')
})

t.test('errors: a room refused goes, a stale session says nothing, the rest is reported', async (t) => {
  const { sockets, seen, signOut } = setup(t, [])
  const socket = sockets[0]!
  socket.fire('error', new ChatSocketError('not_a_member', 'gone', { roomId: 'r1' }))
  socket.fire('error', new ChatSocketError('room_not_found', 'gone'))
  socket.fire('error', new ChatSocketError('unauthenticated', 'expired'))
  signOut()
  socket.fire('error', new ChatSocketError('unauthenticated', 'expired'))
  socket.fire('error', new ChatSocketError('rate_limited', 'slow down'))
  t.same(seen.gone, ['r1', undefined])
  t.same(seen.errors, ['unauthenticated', 'rate_limited'])
})

t.test('stop closes the socket and stops listening to the network', async (t) => {
  const { supervisor, sockets, network } = setup(t, [])
  supervisor.stop()
  t.ok(sockets[0]!.closed)
  t.notOk(supervisor.typing('r1'), 'no socket: nothing is sent')
  t.equal(supervisor.sendMessage('r1', 'hi', 'c1'), undefined)
  network.dispatchEvent(new Event('online'))
  t.equal(sockets.length, 1)
})
