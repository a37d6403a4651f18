// The users of the chaos run: accounts, rooms, devices (sockets) and a
// steady stream of messages, each sent until it is acknowledged, with the
// same client_msg_id on every retry, over HTTP or over a socket.
import { randomUUID } from 'node:crypto'
import { ChatApiError, type ChatClient, type Message } from '@chat/client'
import { chaosClient, ProbeSocket } from './probe-socket.js'

export interface TrafficOptions {
  users: number
  rooms: number
  /** Participants of each room. */
  roomSize: number
  /** Devices (sockets) per user: the first `users / 2` users get one more. */
  socketsPerUser: number
  messagesPerSecond: number
  /** Share of messages sent as socket frames (svc.messages.send) instead of POSTs. */
  socketShare: number
  /** Sends waiting for their acknowledgement at most; past it new sends wait (an outage must not pile up work). */
  maxInFlight: number
}

export interface Send {
  clientMsgId: string
  roomId: string
  userIndex: number
  via: 'http' | 'socket'
  startedAt: number
  attempts: number
  ackedAt?: number
  message?: Message
}

interface User {
  index: number
  displayName: string
  client: ChatClient
  rooms: string[]
  probes: ProbeSocket[]
}

export class Traffic {
  readonly sends: Send[] = []
  /** Failed attempts by what the client saw: an HTTP status, `network`, or a socket error code. */
  readonly failures = new Map<string, number>()
  readonly failureLog: Array<{ at: number; kind: string }> = []
  readonly probes: ProbeSocket[] = []
  readonly rooms: string[] = []
  private readonly users: User[] = []
  private timer: NodeJS.Timeout | undefined
  private inFlight = 0
  private sequence = 0
  private closed = false

  constructor(
    private readonly gatewayUrl: string,
    private readonly options: TrafficOptions
  ) {}

  /** Every access and refresh token issued to the run's users (none may appear in a log). */
  tokens(): string[] {
    return this.users.flatMap((user) => (user.client.session ? [user.client.session.access_token, user.client.session.refresh_token] : []))
  }

  async setUp(): Promise<void> {
    const { users, rooms, roomSize, socketsPerUser } = this.options
    const suffix = randomUUID().slice(0, 6)
    for (let index = 0; index < users; index++) {
      const client = chaosClient(this.gatewayUrl)
      const displayName = `chaos-${suffix}-${index}`
      await client.auth.register({ display_name: displayName, password: 'chaos-password-1' })
      this.users.push({ index, displayName, client, rooms: [], probes: [] })
    }
    for (let roomIndex = 0; roomIndex < rooms; roomIndex++) {
      const members = Array.from({ length: roomSize }, (_, k) => this.users[(roomIndex * 2 + k) % users]!)
      const [owner, ...others] = members
      const room = await owner!.client.rooms.create({ name: `chaos room ${roomIndex}`, participants_display_names: others.map((user) => user.displayName) })
      this.rooms.push(room.id)
      for (const member of members) member.rooms.push(room.id)
    }
    for (const user of this.users) {
      const devices = socketsPerUser + (user.index < users / 2 ? 1 : 0)
      for (let device = 0; device < devices; device++) {
        const probe = new ProbeSocket(user.index, user.rooms, user.client, { tokenInQuery: device === 1 })
        user.probes.push(probe)
        this.probes.push(probe)
      }
    }
    const settled = await Promise.all(this.probes.map((probe) => probe.until(() => probe.healthy, 30_000)))
    if (!settled.every(Boolean)) throw new Error(`${settled.filter((ok) => !ok).length} sockets did not subscribe within 30 s`)
  }

  /** Sends at the configured rate until {@link stopSending}. */
  start(): void {
    const tickMs = 20
    let owed = 0
    this.timer = setInterval(() => {
      owed += (this.options.messagesPerSecond * tickMs) / 1000
      while (owed >= 1) {
        owed -= 1
        if (this.inFlight >= this.options.maxInFlight) continue
        const user = this.users[Math.floor(Math.random() * this.users.length)]!
        const roomId = user.rooms[Math.floor(Math.random() * user.rooms.length)]!
        void this.send(user, roomId, Math.random() < this.options.socketShare ? 'socket' : 'http')
      }
    }, tickMs)
  }

  /** Stops new sends; resolves once every send is acknowledged, or after `timeoutMs` (the rest count as lost). */
  async stopSending(timeoutMs: number): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    const deadline = Date.now() + timeoutMs
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((wake) => setTimeout(wake, 100))
  }

  /**
   * A message into the first room, sent until acknowledged; resolves with the
   * time until every device watching the room has it, or rejects after `timeoutMs`.
   */
  async canary(timeoutMs: number): Promise<void> {
    const roomId = this.rooms[0]!
    const user = this.users.find((candidate) => candidate.rooms.includes(roomId))!
    const send = await this.send(user, roomId, 'http', timeoutMs)
    const seq = send.message?.seq
    if (seq === undefined) throw new Error(`the canary was not acknowledged within ${timeoutMs} ms`)
    const watchers = this.probes.filter((probe) => probe.rooms.includes(roomId))
    const reached = await Promise.all(watchers.map((probe) => probe.until(() => probe.lastDelivered(roomId) >= seq, timeoutMs)))
    if (!reached.every(Boolean)) throw new Error(`the canary (seq ${seq}) reached ${reached.filter(Boolean).length} of ${watchers.length} devices within ${timeoutMs} ms`)
  }

  /** `perRoom` long messages into each room, eight at a time; resolves once they are acknowledged (or after 30 s). */
  async burst(roomIds: readonly string[], perRoom: number, length: number): Promise<void> {
    const jobs = roomIds.flatMap((roomId) => Array.from({ length: perRoom }, () => roomId))
    const worker = async (): Promise<void> => {
      for (let roomId = jobs.pop(); roomId !== undefined; roomId = jobs.pop()) {
        // Spread over the room's members: one sender would hit its own request limit.
        const members = this.users.filter((candidate) => candidate.rooms.includes(roomId))
        await this.send(members[Math.floor(Math.random() * members.length)]!, roomId, 'http', 30_000, 'x'.repeat(length))
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker))
  }

  close(): void {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    for (const probe of this.probes) probe.close()
  }

  private async send(user: User, roomId: string, via: 'http' | 'socket', giveUpAfterMs = Number.POSITIVE_INFINITY, body?: string): Promise<Send> {
    const send: Send = { clientMsgId: randomUUID(), roomId, userIndex: user.index, via, startedAt: Date.now(), attempts: 0 }
    this.sends.push(send)
    this.inFlight++
    const text = body ?? `message ${++this.sequence} from ${user.displayName}`
    const giveUpAt = send.startedAt + giveUpAfterMs
    try {
      for (let delayMs = 100; Date.now() < giveUpAt && !this.closed; delayMs = Math.min(delayMs * 2, 2_000)) {
        send.attempts++
        try {
          send.message = await this.attempt(user, roomId, text, send)
          send.ackedAt = Date.now()
          return send
        } catch (error) {
          this.fail(error)
          await new Promise((wake) => setTimeout(wake, delayMs * (0.5 + Math.random())))
        }
      }
      return send
    } finally {
      this.inFlight--
    }
  }

  private attempt(user: User, roomId: string, text: string, send: Send): Promise<Message> {
    if (send.via === 'socket') {
      // A device of the sender that watches the room; the socket re-sends an unacknowledged frame itself after a reconnect.
      const probe = user.probes.find((candidate) => candidate.rooms.includes(roomId))!
      return withTimeout(probe.socket.sendMessage(roomId, text, { clientMsgId: send.clientMsgId }), 20_000, 'socket ack timeout')
    }
    return user.client.messages.send(roomId, { text, client_msg_id: send.clientMsgId }).then((result) => result.message)
  }

  private fail(error: unknown): void {
    const kind =
      error instanceof ChatApiError
        ? String(error.status)
        : error instanceof Error && 'code' in error && typeof error.code === 'string'
          ? `socket ${error.code}`
          : 'network'
    this.failures.set(kind, (this.failures.get(kind) ?? 0) + 1)
    this.failureLog.push({ at: Date.now(), kind })
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(message), { code: 'ack_timeout' })), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
