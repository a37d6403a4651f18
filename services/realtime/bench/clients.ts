// A client process of the realtime benchmark: opens sockets with the typed
// client (@chat/client, `createChatClient` + `connect({ roomId })`, the `ws`
// package's WebSocket) against the gateway or the floor, and accounts for
// what arrives. The same code receives from both sides.
//
// Two levels are counted per socket:
//  - the wire: every room event frame as the socket received it (a thin
//    subclass of `ws`'s WebSocket reads its `"seq":` before the typed client
//    sees it), for duplicates and reordering, which the typed client would
//    otherwise hide (it drops seq <= last and reconnects on a gap);
//  - the application: the `event`s the typed client emits, for the latency
//    (the send time is in the message text: `bench <epoch ms>`).
// Started by bench/realtime.ts with an IPC channel; never run on its own.
import WebSocket from 'ws'
import { createChatClient, type ChatSocket, type RoomEventFrame, type Session } from '@chat/client'
import { bucketOf, histogramBuckets, toSparse } from './histogram.js'

export interface SocketSpec {
  roomId: string
  token: string
  user: { id: string; display_name: string; created_at: string }
}

export type WorkerCommand =
  | { id: number; cmd: 'open'; group: string; baseUrl: string; sockets: SocketSpec[]; concurrency: number; tap: boolean }
  | { id: number; cmd: 'arm'; group: string; startSeqs: Record<string, number> }
  | { id: number; cmd: 'collect'; group: string; endSeqs: Record<string, number>; drainMs: number }
  | { id: number; cmd: 'close'; group: string }

export interface GroupStats {
  sockets: number
  open: number
  /** Distinct room events received inside the window, all sockets. */
  deliveries: number
  duplicates: number
  reordered: number
  lost: number
  /** Sockets that received everything they were owed. */
  complete: number
  /** Events the typed client emitted (after its own dedup), all sockets. */
  appEvents: number
  reconnects: number
  closes: Record<string, number>
  firstAt: number
  lastAt: number
  frameBytes: number
  /** Sparse latency histogram: [bucket, count] pairs (see histogram.ts). */
  histogram: Array<[number, number]>
  fromCreated: Array<[number, number]>
  /** Some missing deliveries: room, seq, how many sockets lack it. */
  missing: Array<{ roomId: string; seq: number; sockets: number }>
}

const now = (): number => performance.timeOrigin + performance.now()

class Tracked {
  armed = false
  base = 0
  seen = new Uint8Array(256)
  maxSeq = 0
  unique = 0
  duplicates = 0
  reordered = 0
  appEvents = 0
  frameBytes = 0
  frames = 0
  reconnects = 0
  subscribed = false
  closeCode: number | undefined
  /** Close codes of connections that ended while armed (the typed client reconnects after most). */
  closeCodes: number[] = []
  socket!: ChatSocket
  constructor(readonly roomId: string) {}

  arm(base: number): void {
    this.armed = true
    this.base = base
    this.seen.fill(0)
    this.maxSeq = base
    this.unique = 0
    this.duplicates = 0
    this.reordered = 0
    this.appEvents = 0
    this.frameBytes = 0
    this.frames = 0
    this.reconnects = 0
    this.closeCodes = []
  }
}

interface Group {
  tracked: Tracked[]
  histogram: Int32Array
  /** Latency from the message's created_at (stamped by the messages service before its transaction, ms resolution). */
  fromCreated: Int32Array
  firstAt: number
  lastAt: number
}

const groups = new Map<string, Group>()

function onWire(tracked: Tracked, group: Group, data: unknown): void {
  if (!tracked.armed || typeof data !== 'string') return
  // The first `"seq":` of a room event is its seq (the top level's, or the message's, which is the same);
  // `subscribed` has `"last_seq":`. Events the gateway replays or gap-fills from the store are PostgreSQL's
  // jsonb text, which puts a space after the colon: skip it.
  const at = data.indexOf('"seq":')
  if (at < 0) return
  let start = at + 6
  while (data.charCodeAt(start) === 32) start++
  let seq = 0
  for (let index = start; index < data.length; index++) {
    const code = data.charCodeAt(index)
    if (code < 48 || code > 57) break
    seq = seq * 10 + (code - 48)
  }
  const offset = seq - tracked.base
  if (offset <= 0) return
  if (offset >= tracked.seen.length) {
    let size = tracked.seen.length
    while (size <= offset) size *= 2
    const grown = new Uint8Array(size)
    grown.set(tracked.seen)
    tracked.seen = grown
  }
  tracked.frames++
  tracked.frameBytes += data.length
  if (tracked.seen[offset]) {
    tracked.duplicates++
    return
  }
  tracked.seen[offset] = 1
  tracked.unique++
  if (seq < tracked.maxSeq) tracked.reordered++
  else tracked.maxSeq = seq
  const at2 = now()
  if (group.firstAt === 0) group.firstAt = at2
  group.lastAt = at2
}

/** `ws`'s WebSocket with a look at each frame (and close code) before the typed client's listener gets it. */
function tappedWebSocket(tracked: Tracked, group: Group): typeof WebSocket {
  type Listener = (event: { data?: unknown; code?: number }) => void
  // Taken off the prototype on purpose: it is called with .call(this) on each socket.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const base = WebSocket.prototype.addEventListener as unknown as (this: WebSocket, type: string, listener: Listener, options?: unknown) => void
  const Tapped = class TappedWebSocket extends WebSocket {}
  Object.defineProperty(Tapped.prototype, 'addEventListener', {
    value: function addEventListener(this: WebSocket, type: string, listener: Listener, options?: unknown): void {
      if (type === 'message') {
        base.call(this, type, (event) => {
          onWire(tracked, group, event.data)
          listener(event)
        }, options)
      } else if (type === 'close') {
        base.call(this, type, (event) => {
          if (tracked.armed && event.code !== undefined) tracked.closeCodes.push(event.code)
          listener(event)
        }, options)
      } else {
        base.call(this, type, listener, options)
      }
    }
  })
  return Tapped
}

function onEvent(tracked: Tracked, group: Group, frame: RoomEventFrame): void {
  if (!tracked.armed || frame.seq <= tracked.base) return
  tracked.appEvents++
  if (frame.type !== 'message.created') return
  const text = frame.message.text
  if (!text.startsWith('bench ')) return
  const at = now()
  group.histogram[bucketOf(at - Number(text.slice(6)))]! += 1
  group.fromCreated[bucketOf(at - Date.parse(frame.message.created_at))]! += 1
}

async function open(command: Extract<WorkerCommand, { cmd: 'open' }>): Promise<{ opened: number; failed: number; errors: string[] }> {
  const group: Group = groups.get(command.group) ?? { tracked: [], histogram: new Int32Array(histogramBuckets), fromCreated: new Int32Array(histogramBuckets), firstAt: 0, lastAt: 0 }
  groups.set(command.group, group)
  let failed = 0
  const errors = new Set<string>()
  const openOne = (spec: SocketSpec): Promise<void> =>
    new Promise((resolve) => {
      const tracked = new Tracked(spec.roomId)
      const session: Session = { user: spec.user, access_token: spec.token, refresh_token: 'none', token_type: 'Bearer', expires_in: 3600 }
      const client = createChatClient({ baseUrl: command.baseUrl, session, WebSocket: WebSocket })
      const socket = client.connect({
        roomId: spec.roomId,
        WebSocket: (command.tap ? tappedWebSocket(tracked, group) : WebSocket),
        reconnect: { baseDelayMs: 1_000, maxDelayMs: 5_000 }
      })
      tracked.socket = socket
      group.tracked.push(tracked)
      const timer = setTimeout(() => {
        failed++
        errors.add('no subscribed frame within 60 s')
        resolve()
      }, 60_000)
      socket.on('subscribed', () => {
        if (!tracked.subscribed) {
          tracked.subscribed = true
          clearTimeout(timer)
          resolve()
        }
      })
      socket.on('state', (state) => {
        if (state === 'reconnecting') tracked.reconnects++
      })
      socket.on('error', (error) => {
        errors.add(`${error.code}${error.closeCode ? ` (${error.closeCode})` : ''}: ${error.message}`)
        if (error.closeCode !== undefined) tracked.closeCode = error.closeCode
        if (!tracked.subscribed && socket.state === 'closed') {
          failed++
          clearTimeout(timer)
          resolve()
        }
      })
      socket.on('event', (frame) => onEvent(tracked, group, frame))
    })
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(command.concurrency, command.sockets.length) }, async () => {
      while (next < command.sockets.length) await openOne(command.sockets[next++]!)
    })
  )
  return { opened: command.sockets.length - failed, failed, errors: [...errors].slice(0, 5) }
}

function arm(command: Extract<WorkerCommand, { cmd: 'arm' }>): { armed: number } {
  const group = groups.get(command.group)
  if (!group) return { armed: 0 }
  group.histogram.fill(0)
  group.fromCreated.fill(0)
  group.firstAt = 0
  group.lastAt = 0
  for (const tracked of group.tracked) tracked.arm(command.startSeqs[tracked.roomId] ?? 0)
  return { armed: group.tracked.length }
}

async function collect(command: Extract<WorkerCommand, { cmd: 'collect' }>): Promise<GroupStats> {
  const group = groups.get(command.group)
  if (!group) throw new Error(`no group ${command.group}`)
  const owed = (tracked: Tracked): number => (command.endSeqs[tracked.roomId] ?? tracked.base) - tracked.base
  // Waits for what is still on its way: until every socket has all it is owed,
  // or nothing new arrived for `drainMs` (what is missing then is lost), at most 60 s.
  const started = now()
  while (
    now() - started < 60_000 &&
    now() - Math.max(group.lastAt, started) < command.drainMs &&
    group.tracked.some((tracked) => tracked.unique < owed(tracked) && tracked.socket.state !== 'closed')
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const stats: GroupStats = {
    sockets: group.tracked.length,
    open: 0,
    deliveries: 0,
    duplicates: 0,
    reordered: 0,
    lost: 0,
    complete: 0,
    appEvents: 0,
    reconnects: 0,
    closes: {},
    firstAt: group.firstAt,
    lastAt: group.lastAt,
    frameBytes: 0,
    histogram: [],
    fromCreated: [],
    missing: []
  }
  const missing = new Map<string, { roomId: string; seq: number; sockets: number }>()
  let frames = 0
  for (const tracked of group.tracked) {
    tracked.armed = false
    const expected = owed(tracked)
    let received = 0
    for (let offset = 1; offset <= expected; offset++) {
      if (offset < tracked.seen.length && tracked.seen[offset]) {
        received++
        continue
      }
      const key = `${tracked.roomId}:${tracked.base + offset}`
      const entry = missing.get(key) ?? { roomId: tracked.roomId, seq: tracked.base + offset, sockets: 0 }
      entry.sockets++
      missing.set(key, entry)
    }
    stats.deliveries += tracked.unique
    stats.duplicates += tracked.duplicates
    stats.reordered += tracked.reordered
    stats.lost += expected - received
    if (received === expected) stats.complete++
    stats.appEvents += tracked.appEvents
    stats.reconnects += tracked.reconnects
    if (tracked.socket.state === 'open') stats.open++
    for (const code of tracked.closeCodes) stats.closes[code] = (stats.closes[code] ?? 0) + 1
    stats.frameBytes += tracked.frameBytes
    frames += tracked.frames
  }
  stats.frameBytes = frames > 0 ? stats.frameBytes / frames : 0
  stats.histogram = toSparse(group.histogram)
  stats.fromCreated = toSparse(group.fromCreated)
  stats.missing = [...missing.values()].slice(0, 10)
  return stats
}

async function close(command: Extract<WorkerCommand, { cmd: 'close' }>): Promise<{ closed: number }> {
  const group = groups.get(command.group)
  if (!group) return { closed: 0 }
  for (const tracked of group.tracked) tracked.socket.close()
  groups.delete(command.group)
  // Let the close handshakes go out before the caller stops a server.
  await new Promise((resolve) => setTimeout(resolve, 300))
  return { closed: group.tracked.length }
}

process.on('message', (command: WorkerCommand) => {
  const work =
    command.cmd === 'open' ? open(command)
    : command.cmd === 'arm' ? Promise.resolve(arm(command))
    : command.cmd === 'collect' ? collect(command)
    : close(command)
  work.then(
    (result) => process.send?.({ id: command.id, result }),
    (error: unknown) => process.send?.({ id: command.id, error: error instanceof Error ? error.stack : String(error) })
  )
})
process.on('disconnect', () => process.exit(0))
process.send?.({ ready: true })
// A clean exit on stop, so that a CPU profile (BENCH_CPU_PROF=clients) is written.
process.on('SIGTERM', () => process.exit(0))
