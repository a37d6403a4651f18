import type { ClientFrame, Message, RoomEventFrame, ServerFrame } from '@chat/contracts'
import { Emitter } from './emitter.js'
import { ChatSocketError } from './errors.js'
import type { SocketAuth } from './http.js'
import { randomId } from './ids.js'
import type { ResyncRequiredFrame, RoomJoinedFrame, SubscribedFrame, TypingFrame, WebSocketConstructor, WebSocketLike } from './types.js'

// Copied from @chat/contracts' closeCodes: importing a value from there would
// pull typebox into browser bundles.
const closeCode = {
  normal: 1000,
  goingAway: 1001,
  unauthenticated: 4401,
  notAParticipant: 4403,
  noSuchRoom: 4404,
  tooSlow: 4408,
  rateLimited: 4429,
  /** Ours: the client saw a seq gap and starts over from its last seq. */
  seqGap: 4000
} as const

// Copied from @chat/contracts' roomEventTypes, for the same reason.
const roomEventTypes = new Set<string>([
  'message.created',
  'message.updated',
  'message.deleted',
  'reaction.updated',
  'participants.added',
  'participants.removed',
  'room.updated'
])

const OPEN = 1
/** The client stays under the gateway's default frame limit (RATE_LIMIT_WS_FPS 20, RATE_LIMIT_WS_BURST 50). */
const sendPerSecond = 15
const sendBurst = 40

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed'

export interface ReconnectOptions {
  /** First backoff ceiling in ms; each failed attempt doubles it. Default 500. */
  baseDelayMs?: number
  /** Largest backoff ceiling in ms. Default 30000. */
  maxDelayMs?: number
  /** A connection open this long counts as stable: the backoff starts over. Default 10000. */
  stableAfterMs?: number
}

export interface ConnectOptions {
  /** A socket bound to this room (`/ws/chat/:room_id/`); without it, the multiplexed `/ws/`. */
  roomId?: string
  /** Room socket: resume after this seq on the first connection (later ones resume from the last seq delivered). */
  afterSeq?: number
  reconnect?: ReconnectOptions
  /** Overrides the client's WebSocket constructor. */
  WebSocket?: WebSocketConstructor
}

export interface ChatSocketInit extends ConnectOptions {
  baseUrl: string
  WebSocket: WebSocketConstructor
  auth: SocketAuth
}

export type ChatSocketEvents = {
  /** Connection state for a UI. */
  state: (state: ConnectionState) => void
  /** A room event, in seq order per room, each seq once. */
  event: (frame: RoomEventFrame) => void
  typing: (frame: TypingFrame) => void
  /** `/ws/` only: the user was added to a room this socket does not watch yet; subscribe to follow it. */
  room_joined: (frame: RoomJoinedFrame) => void
  subscribed: (frame: SubscribedFrame) => void
  /** The resume point is older than the kept history: reload the room, then call `resetRoom`. */
  resync_required: (frame: ResyncRequiredFrame) => void
  /** An error frame that answers no call of this client, a room stopped by the server, or the end of the socket. */
  error: (error: ChatSocketError) => void
}

interface RoomState {
  /** The seq of the last event delivered to listeners (or the resume point given). */
  lastSeq: number | undefined
  /** The room's latest seq according to the last `subscribed` frame. */
  serverLastSeq: number | undefined
  /** After resync_required: events are held back until resetRoom. */
  resync: boolean
}

interface PendingMessage {
  frame: Extract<ClientFrame, { type: 'message' }>
  resolve: (message: Message) => void
  reject: (error: ChatSocketError) => void
}

interface PendingPing {
  startedAt: number
  resolve: (roundTripMs: number) => void
  reject: (error: ChatSocketError) => void
}

type Timer = ReturnType<typeof setTimeout>

/**
 * A chat socket that keeps itself connected: it resumes every room from the
 * last seq it delivered, drops duplicates, re-sends unacknowledged messages
 * with their `client_msg_id`, and refreshes the session on 4401.
 *
 * @example
 * const socket = client.connect()
 * socket.on('event', (frame) => render(frame))
 * socket.subscribe(roomId, { afterSeq: room.last_seq })
 * const message = await socket.sendMessage(roomId, 'hello')
 */
export class ChatSocket extends Emitter<ChatSocketEvents> {
  readonly #init: ChatSocketInit
  readonly #roomId: string | undefined
  readonly #rooms = new Map<string, RoomState>()
  readonly #pendingMessages = new Map<string, PendingMessage>()
  readonly #pings = new Map<string, PendingPing>()
  #state: ConnectionState = 'connecting'
  #ws: WebSocketLike | undefined
  /**
   * Frames wait here when sending them at once would pass the gateway's
   * per-socket limit (20 frames/s, bursts of 50: close 4429). Re-subscribing
   * 100 rooms after a reconnect is then paced instead of refused.
   */
  #outbox: ClientFrame[] = []
  #outboxTimer: Timer | undefined
  #sendTokens = sendBurst
  #sendTokensAt = Date.now()
  #usedToken: string | undefined
  #attempt = 0
  #authRejections = 0
  #reconnectTimer: Timer | undefined
  #stableTimer: Timer | undefined
  #closedForGood = false

  constructor(init: ChatSocketInit) {
    super()
    this.#init = init
    this.#roomId = init.roomId
    if (init.roomId !== undefined) this.#rooms.set(init.roomId, { lastSeq: init.afterSeq, serverLastSeq: undefined, resync: false })
    // Deferred, so that listeners added right after connect() see 'connecting'.
    queueMicrotask(() => {
      if (this.#closedForGood) return
      this.emit('state', 'connecting')
      this.#open()
    })
  }

  get state(): ConnectionState {
    return this.#state
  }

  /** The seq of the last event of the room delivered to listeners, if any. */
  lastSeq(roomId: string): number | undefined {
    return this.#rooms.get(roomId)?.lastSeq
  }

  /**
   * Multiplexed socket: receive a room's events, after `afterSeq` when given
   * (the events past it are replayed first). Kept across reconnects.
   */
  subscribe(roomId: string, options: { afterSeq?: number } = {}): void {
    this.#requireMultiplexed('subscribe')
    const existing = this.#rooms.get(roomId)
    const lastSeq = options.afterSeq ?? existing?.lastSeq
    this.#rooms.set(roomId, { lastSeq, serverLastSeq: existing?.serverLastSeq, resync: false })
    this.#sendIfOpen(subscribeFrame(roomId, lastSeq))
  }

  unsubscribe(roomId: string): void {
    this.#requireMultiplexed('unsubscribe')
    if (!this.#rooms.delete(roomId)) return
    this.#sendIfOpen({ type: 'unsubscribe', room_id: roomId })
  }

  /**
   * After `resync_required` and a reload of the room: continue from `lastSeq`
   * (what the reload showed). The server replays what came after it.
   */
  resetRoom(roomId: string, lastSeq: number): void {
    const room = this.#rooms.get(roomId)
    if (!room) return
    room.lastSeq = lastSeq
    room.resync = false
    if (this.#roomId === undefined) {
      this.#sendIfOpen(subscribeFrame(roomId, lastSeq))
    } else if (this.#ws) {
      // A room socket resumes through its URL: open a new one right away.
      this.#dropConnection(closeCode.normal, 'resync')
      this.#open()
    }
  }

  /**
   * Sends a message over the socket; resolves with the stored message from
   * the `ack`. Survives reconnects: it is re-sent with the same
   * `client_msg_id`, which the server stores at most once.
   */
  sendMessage(roomId: string, text: string, options: { clientMsgId?: string } = {}): Promise<Message> {
    if (this.#closedForGood) return Promise.reject(new ChatSocketError('closed', 'the socket is closed', { roomId }))
    if (this.#roomId !== undefined && roomId !== this.#roomId) {
      return Promise.reject(new ChatSocketError('wrong_room', `this socket carries room ${this.#roomId} only`, { roomId }))
    }
    const ref = randomId()
    const frame = { type: 'message' as const, text, client_msg_id: options.clientMsgId ?? randomId(), ref, room_id: roomId }
    return new Promise<Message>((resolve, reject) => {
      this.#pendingMessages.set(ref, { frame, resolve, reject })
      this.#sendIfOpen(frame)
    })
  }

  /** Tells the room that the user is typing; dropped when the socket is not open. Returns whether it was sent. */
  typing(roomId: string): boolean {
    return this.#sendIfOpen({ type: 'typing', room_id: roomId })
  }

  /** Round trip in milliseconds; rejected when the socket is not open or drops first. */
  ping(): Promise<number> {
    if (this.#state !== 'open') return Promise.reject(new ChatSocketError('not_open', `the socket is ${this.#state}`))
    const ref = randomId()
    return new Promise<number>((resolve, reject) => {
      this.#pings.set(ref, { startedAt: performance.now(), resolve, reject })
      this.#sendIfOpen({ type: 'ping', ref })
    })
  }

  /** Closes for good: no reconnect, pending calls rejected with code `closed`, no timer left. */
  close(): void {
    if (this.#closedForGood) return
    this.#finish(new ChatSocketError('closed', 'closed by the client'), false)
  }

  #requireMultiplexed(method: string): void {
    if (this.#roomId !== undefined) throw new TypeError(`${method}() is for the multiplexed socket; this one is bound to room ${this.#roomId}`)
  }

  #url(): string {
    const url = new URL(this.#init.baseUrl)
    url.protocol = url.protocol === 'https:' ? 'wss:' : url.protocol === 'http:' ? 'ws:' : url.protocol
    const prefix = url.pathname.replace(/\/+$/, '')
    url.search = ''
    url.hash = ''
    if (this.#roomId === undefined) {
      url.pathname = `${prefix}/ws/`
    } else {
      url.pathname = `${prefix}/ws/chat/${encodeURIComponent(this.#roomId)}/`
      const lastSeq = this.#rooms.get(this.#roomId)?.lastSeq
      if (lastSeq !== undefined) url.searchParams.set('after_seq', String(lastSeq))
    }
    return url.toString()
  }

  #open(): void {
    this.#reconnectTimer = undefined
    if (this.#closedForGood) return
    const token = this.#init.auth.accessToken()
    this.#usedToken = token
    let ws: WebSocketLike
    try {
      ws = new this.#init.WebSocket(this.#url(), token === undefined ? undefined : ['bearer', token])
    } catch (error) {
      this.#finish(new ChatSocketError('connect_failed', error instanceof Error ? error.message : String(error), { cause: error }), true)
      return
    }
    this.#ws = ws
    ws.addEventListener('open', () => {
      if (ws === this.#ws) this.#onOpen()
    })
    ws.addEventListener('message', (event) => {
      if (ws === this.#ws) this.#onMessage(event.data)
    })
    ws.addEventListener('close', (event) => {
      if (ws === this.#ws) this.#onClose(event.code, event.reason)
    })
    // A close event always follows; without a listener the `ws` package would throw.
    ws.addEventListener('error', () => {})
  }

  #onOpen(): void {
    this.#emitState('open')
    const stableAfterMs = this.#init.reconnect?.stableAfterMs ?? 10_000
    this.#stableTimer = setTimeout(() => {
      this.#stableTimer = undefined
      this.#attempt = 0
      this.#authRejections = 0
    }, stableAfterMs)
    if (this.#roomId === undefined) {
      for (const [roomId, room] of this.#rooms) this.#send(subscribeFrame(roomId, room.lastSeq))
    }
    for (const pending of this.#pendingMessages.values()) this.#send(pending.frame)
  }

  #onMessage(data: unknown): void {
    let frame: ServerFrame
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data)) as ServerFrame
    } catch {
      return
    }
    if (frame === null || typeof frame !== 'object') return
    if (roomEventTypes.has(frame.type) && 'seq' in frame) {
      this.#onRoomEvent(frame as RoomEventFrame)
      return
    }
    switch (frame.type) {
      case 'typing':
        if (this.#rooms.has(frame.room_id)) this.emit('typing', frame)
        return
      case 'room.joined':
        this.emit('room_joined', frame)
        return
      case 'subscribed': {
        const room = this.#rooms.get(frame.room_id)
        if (!room) return
        room.serverLastSeq = frame.last_seq
        // Without a resume point, the stream starts after the room's latest
        // seq. With one, the replayed events came before this frame. After
        // resync_required, events stay held back until resetRoom: the app's
        // reload decides where the room continues, and the gateway replays
        // from there, so nothing is emitted twice.
        if (room.lastSeq === undefined && !room.resync) room.lastSeq = frame.last_seq
        this.emit('subscribed', frame)
        return
      }
      case 'resync_required': {
        const room = this.#rooms.get(frame.room_id)
        if (!room) return
        room.resync = true
        this.emit('resync_required', frame)
        return
      }
      case 'ack': {
        const pending = frame.ref === null ? undefined : this.#pendingMessages.get(frame.ref)
        if (!pending || frame.ref === null) return
        this.#pendingMessages.delete(frame.ref)
        pending.resolve(frame.message)
        return
      }
      case 'pong': {
        const ping = frame.ref === null ? undefined : this.#pings.get(frame.ref)
        if (!ping || frame.ref === null) return
        this.#pings.delete(frame.ref)
        ping.resolve(performance.now() - ping.startedAt)
        return
      }
      case 'error':
        this.#onErrorFrame(frame)
        return
      default:
        return
    }
  }

  #onRoomEvent(frame: RoomEventFrame): void {
    const room = this.#rooms.get(frame.room_id)
    if (!room || room.resync) return
    if (room.lastSeq !== undefined) {
      if (frame.seq <= room.lastSeq) return
      if (frame.seq > room.lastSeq + 1) {
        // The gateway fills gaps before it sends past them, so this is a
        // broken stream: start over from what was delivered.
        this.#dropConnection(closeCode.seqGap, 'seq gap')
        this.#scheduleReconnect()
        return
      }
    }
    room.lastSeq = frame.seq
    this.emit('event', frame)
  }

  #onErrorFrame(frame: Extract<ServerFrame, { type: 'error' }>): void {
    const ref = frame.ref ?? undefined
    const pending = ref === undefined ? undefined : this.#pendingMessages.get(ref)
    const roomId = frame.room_id ?? pending?.frame.room_id ?? this.#roomMentionedIn(frame.detail)
    const error = new ChatSocketError(frame.code, frame.detail, { ref, roomId })
    if (pending && ref !== undefined) {
      this.#pendingMessages.delete(ref)
      pending.reject(error)
      return
    }
    const ping = ref === undefined ? undefined : this.#pings.get(ref)
    if (ping && ref !== undefined) {
      this.#pings.delete(ref)
      ping.reject(error)
      return
    }
    // A room the server refused or stopped on /ws/: do not ask for it again.
    if (this.#roomId === undefined && roomId !== undefined && (frame.code === 'not_a_member' || frame.code === 'room_not_found' || frame.code === 'not_found')) {
      this.#rooms.delete(roomId)
    }
    this.emit('error', error)
  }

  /** For a gateway that sends no room_id: a subscribed room's id in the detail tells which room an error is about. */
  #roomMentionedIn(detail: string): string | undefined {
    for (const roomId of this.#rooms.keys()) if (detail.includes(roomId)) return roomId
    return this.#roomId
  }

  #onClose(code: number, reason: string): void {
    this.#disconnected()
    if (this.#closedForGood) return
    if (code === closeCode.unauthenticated) {
      this.#renewAndReconnect()
      return
    }
    if (code === closeCode.notAParticipant || code === closeCode.noSuchRoom) {
      const errorCode = code === closeCode.noSuchRoom ? 'room_not_found' : 'not_a_member'
      this.#finish(new ChatSocketError(errorCode, reason || `closed with ${code}`, { closeCode: code, roomId: this.#roomId }), true)
      return
    }
    // 1001, 4408, 4429, 1006 and the rest: resume with backoff.
    this.#scheduleReconnect()
  }

  #renewAndReconnect(): void {
    this.#authRejections += 1
    if (this.#authRejections > 1) {
      this.#finish(new ChatSocketError('unauthenticated', 'the server refused a freshly refreshed token', { closeCode: closeCode.unauthenticated }), true)
      return
    }
    this.#emitState('reconnecting')
    this.#init.auth.renewAfterRejection(this.#usedToken).then(
      () => this.#open(),
      (error: unknown) => {
        if (this.#closedForGood) return
        const detail = error instanceof Error ? error.message : String(error)
        this.#finish(new ChatSocketError('unauthenticated', `session refresh failed: ${detail}`, { closeCode: closeCode.unauthenticated, cause: error }), true)
      }
    )
  }

  #scheduleReconnect(): void {
    if (this.#closedForGood) return
    this.#emitState('reconnecting')
    const baseDelayMs = this.#init.reconnect?.baseDelayMs ?? 500
    const maxDelayMs = this.#init.reconnect?.maxDelayMs ?? 30_000
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** this.#attempt)
    this.#attempt += 1
    // Full jitter: clients dropped together do not come back together.
    this.#reconnectTimer = setTimeout(() => this.#open(), Math.random() * ceiling)
  }

  /** Forgets the current connection (its late events are ignored) and closes it. */
  #dropConnection(code: number, reason: string): void {
    const ws = this.#ws
    this.#disconnected()
    try {
      ws?.close(code, reason)
    } catch {
      // Already closing.
    }
  }

  /** What ends with any connection: pings die, the stability clock stops. */
  #disconnected(): void {
    this.#ws = undefined
    // Whatever waited was for this connection; the next one re-sends its subscribes and pending messages.
    this.#outbox = []
    if (this.#outboxTimer !== undefined) clearTimeout(this.#outboxTimer)
    this.#outboxTimer = undefined
    if (this.#stableTimer !== undefined) clearTimeout(this.#stableTimer)
    this.#stableTimer = undefined
    for (const ping of this.#pings.values()) ping.reject(new ChatSocketError('disconnected', 'the connection dropped before the pong'))
    this.#pings.clear()
  }

  #finish(error: ChatSocketError, report: boolean): void {
    this.#closedForGood = true
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
    this.#dropConnection(closeCode.normal, 'closed')
    for (const pending of this.#pendingMessages.values()) pending.reject(error)
    this.#pendingMessages.clear()
    if (report) this.emit('error', error)
    this.#emitState('closed')
  }

  #sendIfOpen(frame: ClientFrame): boolean {
    if (this.#state !== 'open' || !this.#ws) return false
    return this.#send(frame)
  }

  #send(frame: ClientFrame): boolean {
    const ws = this.#ws
    if (!ws || ws.readyState !== OPEN) return false
    if (this.#outbox.length === 0 && this.#takeSendToken()) {
      ws.send(JSON.stringify(frame))
      return true
    }
    this.#outbox.push(frame)
    this.#scheduleOutbox()
    return true
  }

  #takeSendToken(): boolean {
    const now = Date.now()
    this.#sendTokens = Math.min(sendBurst, this.#sendTokens + ((now - this.#sendTokensAt) * sendPerSecond) / 1000)
    this.#sendTokensAt = now
    if (this.#sendTokens < 1) return false
    this.#sendTokens -= 1
    return true
  }

  #scheduleOutbox(): void {
    if (this.#outboxTimer !== undefined) return
    this.#outboxTimer = setTimeout(() => {
      this.#outboxTimer = undefined
      const ws = this.#ws
      if (!ws || ws.readyState !== OPEN) return
      while (this.#outbox.length > 0 && this.#takeSendToken()) ws.send(JSON.stringify(this.#outbox.shift()))
      if (this.#outbox.length > 0) this.#scheduleOutbox()
    }, Math.ceil(1000 / sendPerSecond))
  }

  #emitState(state: ConnectionState): void {
    if (this.#state === state) return
    this.#state = state
    this.emit('state', state)
  }
}

function subscribeFrame(roomId: string, afterSeq: number | undefined): ClientFrame {
  return afterSeq === undefined ? { type: 'subscribe', room_id: roomId } : { type: 'subscribe', room_id: roomId, after_seq: afterSeq }
}
