import type { ClientFrame, Message, RoomEventFrame, ServerFrame } from '@chat/contracts'
import { closeCodes, roomEventTypes } from '@chat/contracts/constants'
import { Emitter } from './emitter.js'
import { ChatSocketError } from './errors.js'
import { FramePacer } from './frame-pacer.js'
import { randomId } from './ids.js'
import { RoomPositions } from './room-positions.js'
import type { ChatSocketEvents, ConnectionState, ConnectOptions, PendingMessage, PendingPing, SocketAuth, WebSocketConstructor, WebSocketLike } from './types.js'

/** Not among api.md's codes: a normal closure, and ours for a seq gap (the client starts over from its last seq). */
const ownCloseCodes = { normal: 1000, seqGap: 4000 } as const
const isRoomEventType = new Set<string>(roomEventTypes)

/** The client stays under the gateway's default frame limit (RATE_LIMIT_WS_FPS 20, RATE_LIMIT_WS_BURST 50). */
const pacing = { perSecond: 15, burst: 40 }

export interface ChatSocketInit extends ConnectOptions {
  baseUrl: string
  WebSocket: WebSocketConstructor
  auth: SocketAuth
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
  readonly #rooms = new RoomPositions()
  readonly #pendingMessages = new Map<string, PendingMessage>()
  readonly #pings = new Map<string, PendingPing>()
  #state: ConnectionState = 'connecting'
  #ws: WebSocketLike | undefined
  /** Frames wait here when sending them at once would pass the gateway's per-socket limit (close 4429). */
  readonly #pacer = new FramePacer(pacing)
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
    if (init.roomId !== undefined) this.#rooms.follow(init.roomId, init.afterSeq)
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
    return this.#rooms.lastSeq(roomId)
  }

  /**
   * Multiplexed socket: receive a room's events, after `afterSeq` when given
   * (the events past it are replayed first). Kept across reconnects.
   */
  subscribe(roomId: string, options: { afterSeq?: number } = {}): void {
    this.#requireMultiplexed('subscribe')
    this.#sendIfOpen(subscribeFrame(roomId, this.#rooms.follow(roomId, options.afterSeq)))
  }

  unsubscribe(roomId: string): void {
    this.#requireMultiplexed('unsubscribe')
    if (!this.#rooms.forget(roomId)) return
    this.#sendIfOpen({ type: 'unsubscribe', room_id: roomId })
  }

  /**
   * After `resync_required` and a reload of the room: continue from `lastSeq`
   * (what the reload showed). The server replays what came after it.
   */
  resetRoom(roomId: string, lastSeq: number): void {
    if (!this.#rooms.reset(roomId, lastSeq)) return
    if (this.#roomId === undefined) {
      this.#sendIfOpen(subscribeFrame(roomId, lastSeq))
    } else if (this.#ws) {
      // A room socket resumes through its URL: open a new one right away.
      this.#dropConnection(ownCloseCodes.normal, 'resync')
      this.#open()
    }
  }

  /**
   * Sends a message over the socket; resolves with the stored message from
   * the `ack`. Survives reconnects: it is re-sent with the same
   * `client_msg_id`, which the server stores at most once.
   */
  sendMessage(roomId: string, text: string, options: { clientMsgId?: string; replyTo?: string; mentions?: string[] } = {}): Promise<Message> {
    if (this.#closedForGood) return Promise.reject(new ChatSocketError('closed', 'the socket is closed', { roomId }))
    if (this.#roomId !== undefined && roomId !== this.#roomId) {
      return Promise.reject(new ChatSocketError('wrong_room', `this socket carries room ${this.#roomId} only`, { roomId }))
    }
    const ref = randomId()
    const { clientMsgId, replyTo, mentions } = options
    const frame = { type: 'message' as const, text, client_msg_id: clientMsgId ?? randomId(), ref, room_id: roomId, ...(replyTo === undefined ? {} : { reply_to: replyTo }), ...(mentions === undefined ? {} : { mentions }) }
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
      const lastSeq = this.#rooms.lastSeq(this.#roomId)
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
      for (const [roomId, lastSeq] of this.#rooms.resumePoints()) this.#send(subscribeFrame(roomId, lastSeq))
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
    if (isRoomEventType.has(frame.type) && 'seq' in frame) {
      this.#onRoomEvent(frame)
      return
    }
    switch (frame.type) {
      case 'typing':
        if (this.#rooms.has(frame.room_id)) this.emit('typing', frame)
        return
      case 'room.joined':
        this.emit('room_joined', frame)
        return
      case 'mention':
        this.emit('mention', frame)
        return
      case 'presence':
        this.emit('presence', frame)
        return
      case 'read':
        if (this.#rooms.has(frame.room_id)) this.emit('read', frame)
        return
      case 'subscribed':
        if (this.#rooms.subscribed(frame.room_id, frame.last_seq)) this.emit('subscribed', frame)
        return
      case 'resync_required':
        if (this.#rooms.holdForResync(frame.room_id)) this.emit('resync_required', frame)
        return
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
    const verdict = this.#rooms.accept(frame)
    if (verdict === 'deliver') this.emit('event', frame)
    if (verdict !== 'gap') return
    // The gateway fills gaps before it sends past them, so this is a
    // broken stream: start over from what was delivered.
    this.#dropConnection(ownCloseCodes.seqGap, 'seq gap')
    this.#scheduleReconnect()
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
      this.#rooms.forget(roomId)
    }
    this.emit('error', error)
  }

  /** For a gateway that sends no room_id: a subscribed room's id in the detail tells which room an error is about. */
  #roomMentionedIn(detail: string): string | undefined {
    for (const roomId of this.#rooms.roomIds()) if (detail.includes(roomId)) return roomId
    return this.#roomId
  }

  #onClose(code: number, reason: string): void {
    this.#disconnected()
    if (this.#closedForGood) return
    if (code === closeCodes.unauthenticated) {
      this.#renewAndReconnect()
      return
    }
    if (code === closeCodes.notAParticipant || code === closeCodes.noSuchRoom) {
      const errorCode = code === closeCodes.noSuchRoom ? 'room_not_found' : 'not_a_member'
      this.#finish(new ChatSocketError(errorCode, reason || `closed with ${code}`, { closeCode: code, roomId: this.#roomId }), true)
      return
    }
    // 1001, 4408, 4429, 1006 and the rest: resume with backoff.
    this.#scheduleReconnect()
  }

  #renewAndReconnect(): void {
    this.#authRejections += 1
    if (this.#authRejections > 1) {
      this.#finish(new ChatSocketError('unauthenticated', 'the server refused a freshly refreshed token', { closeCode: closeCodes.unauthenticated }), true)
      return
    }
    this.#emitState('reconnecting')
    this.#init.auth.renewAfterRejection(this.#usedToken).then(
      () => this.#open(),
      (error: unknown) => {
        if (this.#closedForGood) return
        const detail = error instanceof Error ? error.message : String(error)
        this.#finish(new ChatSocketError('unauthenticated', `session refresh failed: ${detail}`, { closeCode: closeCodes.unauthenticated, cause: error }), true)
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
    this.#pacer.clear()
    if (this.#stableTimer !== undefined) clearTimeout(this.#stableTimer)
    this.#stableTimer = undefined
    for (const ping of this.#pings.values()) ping.reject(new ChatSocketError('disconnected', 'the connection dropped before the pong'))
    this.#pings.clear()
  }

  #finish(error: ChatSocketError, report: boolean): void {
    this.#closedForGood = true
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
    this.#dropConnection(ownCloseCodes.normal, 'closed')
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
    return this.#pacer.send(this.#ws, frame)
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
