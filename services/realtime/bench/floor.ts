// The floor of the realtime benchmark: a bare `ws` WebSocketServer in its own
// process, no authentication, no NATS, no database. It speaks just enough of
// the gateway's protocol for the typed client (@chat/client) to talk to it:
// `/ws/chat/:room_id/` with the `bearer` subprotocol, a `subscribed` frame,
// then `message.created` frames shaped like the gateway's. It makes the frames
// itself at the rate it is told to and fans each out exactly like the gateway
// does (serialized once, `bufferedAmount` check, `socket.send(bytes)` per
// socket), so that the client side of the comparison is identical.
// Started by bench/realtime.ts (IPC channel); never run on its own.
import { randomUUID } from 'node:crypto'
import { WebSocketServer, type WebSocket } from 'ws'

interface FloorRoom {
  seq: number
  sockets: Set<WebSocket>
}

interface RunCommand {
  cmd: 'run'
  id: number
  rate: number
  seconds: number
  rooms: string[]
}

const sendQueueBytes = 1024 * 1024
const textFrame = { binary: false } as const
const rooms = new Map<string, FloorRoom>()
const sender = { id: randomUUID(), display_name: 'bench-floor', created_at: new Date().toISOString() }
const now = (): number => performance.timeOrigin + performance.now()
let tooSlow = 0

function roomOf(roomId: string): FloorRoom {
  let room = rooms.get(roomId)
  if (!room) {
    room = { seq: 0, sockets: new Set() }
    rooms.set(roomId, room)
  }
  return room
}

const server = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  maxPayload: 64 * 1024,
  handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false)
})

server.on('connection', (socket, request) => {
  const match = /^\/ws\/chat\/([^/?]+)\//.exec(request.url ?? '')
  if (!match?.[1]) {
    socket.close(4404, 'no such room')
    return
  }
  const roomId = decodeURIComponent(match[1])
  const room = roomOf(roomId)
  room.sockets.add(socket)
  socket.on('error', () => undefined)
  socket.once('close', () => room.sockets.delete(socket))
  socket.send(JSON.stringify({ type: 'subscribed', room_id: roomId, last_seq: room.seq }), textFrame)
})

/** One room event, the same shape and size as the messages service's `message.created`. */
function broadcast(roomId: string): void {
  const room = roomOf(roomId)
  const seq = ++room.seq
  const at = new Date()
  const frame = {
    type: 'message.created',
    room_id: roomId,
    seq,
    message: {
      id: randomUUID(),
      room_id: roomId,
      seq,
      sender,
      text: `bench ${now().toFixed(3)}`,
      client_msg_id: randomUUID(),
      created_at: at.toISOString(),
      edited_at: null,
      deleted: false,
      reactions: {},
      my_reaction: null
    }
  }
  const bytes = Buffer.from(JSON.stringify(frame))
  for (const socket of room.sockets) {
    const queued = socket.bufferedAmount
    if (queued > 0 && queued + bytes.length > sendQueueBytes) {
      tooSlow++
      socket.close(4408, 'too slow')
      continue
    }
    socket.send(bytes, textFrame)
  }
}

/** Paced like the gateway's load generator: every tick emits what the elapsed time allows. */
async function run(command: RunCommand): Promise<void> {
  const startSeqs = Object.fromEntries(command.rooms.map((roomId) => [roomId, roomOf(roomId).seq]))
  const started = performance.now()
  const total = Math.round(command.rate * command.seconds)
  let emitted = 0
  let next = 0
  while (emitted < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * command.rate) + 1)
    while (emitted < due) {
      broadcast(command.rooms[next]!)
      next = (next + 1) % command.rooms.length
      emitted++
    }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  const endSeqs = Object.fromEntries(command.rooms.map((roomId) => [roomId, roomOf(roomId).seq]))
  process.send?.({ id: command.id, startedAt: performance.timeOrigin + started, endedAt: now(), emitted, startSeqs, endSeqs, tooSlow })
}

server.on('listening', () => {
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  process.send?.({ listening: `http://127.0.0.1:${port}` })
})

process.on('message', (command: RunCommand | { cmd: 'seqs'; id: number; rooms: string[] }) => {
  if (command.cmd === 'run') void run(command)
  else if (command.cmd === 'seqs') process.send?.({ id: command.id, seqs: Object.fromEntries(command.rooms.map((roomId) => [roomId, roomOf(roomId).seq])) })
})
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => {
  for (const socket of server.clients) socket.terminate()
  server.close(() => process.exit(0))
})
