import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Kysely } from 'kysely'
import WebSocket from 'ws'
import { connectNatsBus, createInProcessBus, type EventBus } from '@chat/bus'
import type { Message, ServerFrame } from '@chat/contracts'
import type { Database } from '@chat/db'
import { createTestDatabase, type TeardownHost } from '@chat/db/testing'
import { buildApp as buildMessagesApp } from '@chat/messages'
import { createRoomEventPublisher, type RoomEventPublisher } from '@chat/room-events'
import { buildApp as buildRoomsApp } from '@chat/rooms'
import type { ServiceApp, TokenSigner } from '@chat/service-kit'
import { createTestAuth, createTestRoom, createTestUser, silentLogger, type TestUser } from '@chat/service-kit/testing'
export { silentLogger }
import { buildApp, type RealtimeAppOptions } from '../src/app.js'

export type { TestUser }

export type TestContext = TeardownHost
export const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

export interface Gateway {
  app: ServiceApp
  bus: EventBus
  /** `ws://127.0.0.1:<port>` */
  url: string
}

export interface Harness {
  db: Kysely<Database>
  /** The test database's URL, for gateways started as processes. */
  databaseUrl: string
  signer: TokenSigner
  /** The messages service (its own bus connection when on NATS). */
  messages: ServiceApp
  /** The rooms service, for leaving rooms. */
  rooms: ServiceApp
  publisher: RoomEventPublisher
  /** The bus the services publish on. */
  bus: EventBus
  gateways: Gateway[]
  createUser: (displayName?: string) => Promise<TestUser>
  createRoom: (owner: TestUser, members?: TestUser[]) => Promise<string>
  /** POST /messages/:room_id/ on the messages service; the stored message. */
  send: (user: TestUser, roomId: string, text: string, clientMsgId?: string) => Promise<Message>
  /** Starts one more gateway on the same database and transport (its own bus connection on NATS). */
  addGateway: (options?: RealtimeAppOptions) => Promise<Gateway>
}

export interface BuildOptions {
  /** `memory`: one in-process bus for everything; `nats`: one NATS connection per process, as in production. */
  transport?: 'memory' | 'nats'
  gateways?: number
  gateway?: RealtimeAppOptions
  /** The nats-server of a `nats` transport; default NATS_URL or the local one. */
  natsUrl?: string
}

/** The messages and rooms services and `gateways` realtime gateways on a fresh database, closed when the test ends. */
export async function build(t: TestContext, options: BuildOptions = {}): Promise<Harness> {
  const { db, url: databaseUrl } = await createTestDatabase(t)
  const transport = options.transport ?? 'memory'
  const shared = transport === 'memory' ? createInProcessBus() : undefined
  const closers: Array<() => Promise<unknown>> = []
  t.teardown(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined)
  })
  const newBus = async (name: string): Promise<EventBus> => {
    if (shared) return shared
    const bus = await connectNatsBus({ url: options.natsUrl ?? natsUrl, name, logger: silentLogger })
    closers.push(() => bus.close())
    return bus
  }
  if (shared) closers.push(() => shared.close())

  const { signer, verifier } = createTestAuth()
  const bus = await newBus('test-services')
  const publisher = createRoomEventPublisher({ db, bus, logger: silentLogger, flushMs: 10 })
  closers.push(() => publisher.close())
  // Other processes may serve svc.messages.send on the same NATS server: this harness uses its own subject.
  const sendSubject = `svc.messages.send.test-${randomUUID()}`
  const messages = await buildMessagesApp({ db, bus, verifier, publisher }, { logger: false, userRps: 0, sendSubject })
  closers.push(() => messages.close())
  const rooms = await buildRoomsApp({ db, bus, verifier }, { logger: false, userRps: 0 })
  closers.push(() => rooms.close())

  const gateways: Gateway[] = []
  const addGateway = async (extra: RealtimeAppOptions = {}): Promise<Gateway> => {
    const gatewayBus = await newBus(`test-gateway-${gateways.length}`)
    const app = await buildApp({ db, bus: gatewayBus, verifier }, { logger: false, userRps: 0, sendSubject, ...options.gateway, ...extra })
    await app.listen({ port: 0, host: '127.0.0.1' })
    closers.push(() => app.close())
    const gateway = { app, bus: gatewayBus, url: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
    gateways.push(gateway)
    return gateway
  }
  for (let index = 0; index < (options.gateways ?? 1); index++) await addGateway()

  return {
    db,
    databaseUrl,
    signer,
    messages,
    rooms,
    publisher,
    bus,
    gateways,
    addGateway,
    createUser: (displayName) => createTestUser(db, signer, displayName),
    createRoom: (owner, members = []) => createTestRoom(db, owner, members),
    async send(user, roomId, text, clientMsgId) {
      const response = await messages.inject({
        method: 'POST',
        url: `/messages/${roomId}/`,
        headers: { authorization: `Bearer ${user.token}` },
        payload: { text, ...(clientMsgId ? { client_msg_id: clientMsgId } : {}) }
      })
      if (response.statusCode !== 201 && response.statusCode !== 200) throw new Error(`send answered ${response.statusCode}: ${response.body}`)
      return response.json<Message>()
    }
  }
}

/** A raw `ws` client that records every frame, for asserting exactly what went over the wire. */
export class TestSocket {
  readonly frames: ServerFrame[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  readonly opened: Promise<void>
  private waiters: Array<() => void> = []

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse((data as Buffer).toString('utf8')) as ServerFrame)
      for (const wake of this.waiters.splice(0)) wake()
    })
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        for (const wake of this.waiters.splice(0)) wake()
      })
    })
    ws.on('error', () => undefined)
  }

  /** Sends once the socket is open; frames keep their order. */
  send(frame: Record<string, unknown>): void {
    const text = JSON.stringify(frame)
    if (this.ws.readyState === WebSocket.CONNECTING) void this.opened.then(() => this.ws.send(text), () => undefined)
    else this.ws.send(text)
  }

  /** Room events (frames with a seq) of one room, in arrival order. */
  events(roomId?: string): Array<Extract<ServerFrame, { seq: number }>> {
    return this.frames.filter(
      (frame): frame is Extract<ServerFrame, { seq: number }> => 'seq' in frame && (roomId === undefined || frame.room_id === roomId)
    )
  }

  /** Waits until `condition` holds over the frames received so far. */
  async until(condition: (frames: ServerFrame[]) => boolean, timeoutMs = 10_000, what = 'frames'): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!condition(this.frames)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames.slice(-5))}`)
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${what}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** The first frame of `type` (waiting for it), optionally matching `match`. */
  async next<T extends ServerFrame['type']>(type: T, match: (frame: Extract<ServerFrame, { type: T }>) => boolean = () => true): Promise<Extract<ServerFrame, { type: T }>> {
    let found: Extract<ServerFrame, { type: T }> | undefined
    await this.until(
      (frames) => {
        found = frames.find((frame): frame is Extract<ServerFrame, { type: T }> => frame.type === type && match(frame as Extract<ServerFrame, { type: T }>))
        return found !== undefined
      },
      10_000,
      type
    )
    return found as Extract<ServerFrame, { type: T }>
  }

  close(): void {
    this.ws.close()
  }
}

export interface ConnectOptions {
  /** How the token travels. Default: the subprotocol pair. */
  auth?: 'header' | 'protocol' | 'query' | 'none'
  token?: string
  query?: Record<string, string>
}

/** Opens a socket on `path` of a gateway as `user`, closed when the test ends. */
export function connect(t: TestContext, gateway: Gateway, path: string, user: TestUser | undefined, options: ConnectOptions = {}): TestSocket {
  const token = options.token ?? user?.token ?? ''
  const auth = options.auth ?? 'protocol'
  const query = new URLSearchParams(options.query ?? {})
  if (auth === 'query') query.set('token', token)
  const url = `${gateway.url}${path}${query.size > 0 ? `?${query.toString()}` : ''}`
  const ws =
    auth === 'protocol'
      ? new WebSocket(url, ['bearer', token])
      : new WebSocket(url, auth === 'header' ? { headers: { authorization: `Bearer ${token}` } } : {})
  const socket = new TestSocket(ws)
  t.teardown(() => {
    if (ws.readyState !== WebSocket.CONNECTING) ws.terminate()
    else ws.once('error', () => undefined).once('open', () => ws.terminate())
  })
  return socket
}

/** Asserts-friendly view: the seqs of the events received for a room. */
export function seqsOf(socket: TestSocket, roomId: string): number[] {
  return socket.events(roomId).map((frame) => frame.seq)
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index)
}
