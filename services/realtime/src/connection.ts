import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket, RawData } from 'ws'
import { Compile } from 'typebox/compile'
import { BusError, NoRespondersError } from '@chat/bus'
import {
  ClientFrame,
  closeCodes,
  subjects,
  toUser,
  type ServerFrame,
  type User
} from '@chat/contracts'
import { bearerToken, InvalidTokenError } from '@chat/service-kit'
import { findSubscribeAccess, readRoomEvents } from './events.repository.js'
import type { RealtimeGateway } from './gateway.js'
import { storedRowToEvent, typingUserHeader, type ChannelMember, type OutgoingEvent } from './room-channel.js'

/** What a connection needs of the upgrade request. */
export interface ConnectionRequest {
  readonly id: string
  readonly headers: Record<string, string | string[] | undefined>
  readonly query: unknown
  /** The upgrade's IncomingMessage, whose socket the WebSocket now owns. */
  readonly raw?: { readonly socket?: unknown }
}

const clientFrameCheck = Compile(ClientFrame)
const textFrame = { binary: false } as const
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const replayPage = 500
const typingRepeatMs = 2_000
const typingExpiryMs = 5_000
const closeGraceMs = 5_000
const drainWaitMs = 10_000
/** Client frames kept while the token is being verified; more close the socket. */
const maxWaitingFrames = 32

type ClientFrameOf<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>

/** The token of an upgrade request: `Authorization`, the `bearer, <token>` subprotocol pair, or `?token=`. */
export function socketToken(request: ConnectionRequest): string | undefined {
  const authorization = request.headers.authorization
  const fromHeader = bearerToken(typeof authorization === 'string' ? authorization : undefined)
  if (fromHeader) return fromHeader
  const protocols = request.headers['sec-websocket-protocol']
  if (typeof protocols === 'string') {
    const [first, second] = protocols.split(',').map((part) => part.trim())
    if (first?.toLowerCase() === 'bearer' && second) return second
  }
  const query = request.query as { token?: unknown } | undefined
  return typeof query?.token === 'string' && query.token !== '' ? query.token : undefined
}

/** The `exp` of a token that was verified, in ms since the epoch; undefined when it has none. */
function expiryOf(token: string | undefined): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token?.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown }
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined
  } catch {
    return undefined
  }
}

/** `?after_seq=` of a room socket: undefined when absent, null when malformed. */
function afterSeqOf(query: unknown): number | undefined | null {
  const raw = (query as { after_seq?: unknown } | undefined)?.after_seq
  if (raw === undefined) return undefined
  if (typeof raw !== 'string' || !/^\d{1,16}$/.test(raw)) return null
  const value = Number(raw)
  return Number.isSafeInteger(value) ? value : null
}

/**
 * One socket's subscription to one room. While it joins (replaying stored
 * events), live events wait in `buffered`; then it sends strictly seq after
 * seq, whichever path an event came by.
 */
class RoomSubscription implements ChannelMember {
  /** The participation check passed: typing notices may go out. */
  admitted = false
  live = false
  ended = false
  /** Seq of the last event this socket was sent for the room. */
  sentSeq = 0
  /** The room's seq when participation was checked: a removal after it ends the subscription. */
  checkedSeq = Number.MAX_SAFE_INTEGER
  private buffered: OutgoingEvent[] = []

  constructor(
    readonly connection: Connection,
    readonly roomId: string
  ) {}

  get userId(): string {
    return this.connection.user?.id ?? ''
  }

  deliver(event: OutgoingEvent): void {
    if (this.ended) return
    if (!this.live) {
      this.buffered.push(event)
      this.connection.holdBytes(event.bytes.length)
      return
    }
    this.send(event)
  }

  /** Sends the event if it is the next one; earlier ones were sent already. */
  send(event: OutgoingEvent): void {
    if (this.ended || event.seq <= this.sentSeq) return
    if (event.seq !== this.sentSeq + 1) {
      // The channel and the replay never skip; if this happens, the client must resume.
      this.connection.log.error({ roomId: this.roomId, sentSeq: this.sentSeq, seq: event.seq }, 'event out of order for a socket')
      this.connection.closeWith(1011, 'resume required')
      return
    }
    if (!this.connection.sendBytes(event.bytes)) return
    this.sentSeq = event.seq
    this.connection.gateway.stats.eventsSent++
    if (event.removedUserIds?.has(this.userId) && event.seq > this.checkedSeq) this.connection.removedFrom(this)
  }

  /** Ends the replay: `subscribed`, then the live events that waited. */
  goLive(): void {
    if (this.ended) return
    this.live = true
    this.connection.sendFrame({ type: 'subscribed', room_id: this.roomId, last_seq: this.sentSeq })
    const waiting = this.buffered
    this.buffered = []
    this.connection.releaseBytes(waiting.reduce((total, event) => total + event.bytes.length, 0))
    for (const event of waiting) this.send(event)
  }

  /** Ends the subscription's claim on the send queue (it was unsubscribed or removed while replaying). */
  dropBuffered(): void {
    this.connection.releaseBytes(this.buffered.reduce((total, event) => total + event.bytes.length, 0))
    this.buffered = []
  }

  deliverTyping(bytes: Buffer): void {
    if (this.live && !this.ended) this.connection.sendBytes(bytes)
  }

  abort(reason: string): void {
    this.connection.log.warn({ roomId: this.roomId, reason }, 'room stream interrupted; closing the socket so that it resumes')
    this.connection.closeWith(1011, 'resume required')
  }
}

interface TypingState {
  lastPublishedAt: number
  expiry: NodeJS.Timeout
}

/**
 * One client socket: authentication, its room subscriptions (one fixed room
 * for `/ws/chat/:room_id/`, any number for `/ws/`), client frames, limits.
 */
export class Connection {
  user: User | undefined
  /** When the token the socket was opened with expires: the socket ends with 4401 then, and the client reconnects with a fresh one. */
  expiresAt: number | undefined
  alive = true
  private readonly subscriptions = new Map<string, RoomSubscription>()
  private readonly typing = new Map<string, TypingState>()
  private closing = false
  private waiting: RawData[] | undefined = []
  /** Bytes of live events held for subscriptions that are still replaying; they count against the send queue. */
  private heldBytes = 0
  private subscribesRunning = 0
  private readonly subscribesWaiting: Array<() => void> = []
  private tokens: number
  private tokensAt = Date.now()

  /** Read from the upgrade request, which is not kept: an idle socket should cost as little memory as possible. */
  private token: string | undefined
  private readonly afterSeq: number | undefined | null
  private readonly requestId: string

  constructor(
    readonly gateway: RealtimeGateway,
    readonly socket: WebSocket,
    request: ConnectionRequest,
    private readonly roomId: string | undefined
  ) {
    this.token = socketToken(request)
    this.afterSeq = afterSeqOf(request.query)
    this.requestId = request.id
    this.tokens = gateway.settings.rateLimitBurst
    // Listeners go on at once: frames sent before authentication finishes wait in `waiting`.
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary))
    socket.on('pong', () => {
      this.alive = true
    })
    socket.on('error', (error) => this.log.debug({ err: error }, 'socket error'))
    socket.once('close', () => this.cleanUp())
  }

  /**
   * A logger with the upgrade's request id, made when something is logged:
   * keeping the request's own child logger would cost every idle socket.
   */
  get log(): FastifyBaseLogger {
    return this.gateway.deps.logger.child({ reqId: this.requestId })
  }

  async start(): Promise<void> {
    const { verifier, db } = this.gateway.deps
    let userId: string
    try {
      const token = this.token
      this.token = undefined
      userId = (await verifier.verify(token)).id
      this.expiresAt = expiryOf(token)
    } catch (error) {
      if (error instanceof InvalidTokenError) this.closeWith(closeCodes.unauthenticated, error.message)
      else {
        this.log.warn({ err: error }, 'token verification unavailable')
        this.closeWith(1013, 'try again later')
      }
      return
    }
    try {
      const row = await db.selectFrom('users').select(['id', 'display_name', 'created_at']).where('id', '=', userId).executeTakeFirst()
      if (!row) {
        this.closeWith(closeCodes.unauthenticated, 'unknown user')
        return
      }
      this.user = toUser(row)
    } catch (error) {
      this.log.error({ err: error }, 'loading the socket user failed')
      this.closeWith(1011, 'try again later')
      return
    }
    if (this.closing) return
    if (this.roomId !== undefined) {
      const afterSeq = this.afterSeq
      if (afterSeq === null) {
        this.closeWith(1008, 'after_seq must be a non-negative integer')
        return
      }
      if (!uuidPattern.test(this.roomId)) {
        this.closeWith(closeCodes.noSuchRoom, 'no such room')
        return
      }
      void this.subscribe(this.roomId, afterSeq, null)
    } else {
      try {
        await this.gateway.watchJoins(this, userId)
      } catch {
        // Logged by the gateway; the socket works without room.joined notices.
      }
    }
    if (this.closing) return
    const waiting = this.waiting ?? []
    this.waiting = undefined
    for (const data of waiting) this.handle(data)
  }

  /** This socket's user was added to a room (on `/ws/` only): tell the client, unless it already watches the room. */
  notifyJoined(roomId: string): void {
    if (!this.subscriptions.has(roomId)) this.sendFrame({ type: 'room.joined', room_id: roomId })
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true
    if (this.closing) return
    if (!this.takeToken()) {
      this.closeWith(closeCodes.rateLimited, 'too many frames')
      return
    }
    if (isBinary) {
      this.sendError(null, 'invalid_frame', 'frames are JSON text')
      return
    }
    if (!this.waiting) {
      this.handle(data)
      return
    }
    if (this.waiting.length >= maxWaitingFrames) {
      this.closeWith(1008, 'too many frames before authentication')
      return
    }
    this.waiting.push(data)
  }

  private takeToken(): boolean {
    const { rateLimitFps, rateLimitBurst } = this.gateway.settings
    if (rateLimitFps <= 0) return true
    const now = Date.now()
    this.tokens = Math.min(rateLimitBurst, this.tokens + ((now - this.tokensAt) * rateLimitFps) / 1000)
    this.tokensAt = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  private handle(data: RawData): void {
    let frame: unknown
    try {
      frame = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'))
    } catch {
      this.sendError(null, 'invalid_frame', 'not valid JSON')
      return
    }
    if (!clientFrameCheck.Check(frame)) {
      const ref = typeof (frame as { ref?: unknown } | null)?.ref === 'string' ? (frame as { ref: string }).ref : null
      const [first] = clientFrameCheck.Errors(frame)
      this.sendError(ref, 'invalid_frame', first ? `${first.instancePath || '/'} ${first.message}` : 'not a client frame')
      return
    }
    switch (frame.type) {
      case 'ping':
        this.sendFrame({ type: 'pong', ref: frame.ref ?? null })
        return
      case 'message':
        void this.sendMessage(frame)
        return
      case 'typing':
        this.onTyping(frame)
        return
      case 'subscribe':
      case 'unsubscribe':
        this.onSubscription(frame)
    }
  }

  private onSubscription(frame: ClientFrameOf<'subscribe'> | ClientFrameOf<'unsubscribe'>): void {
    const ref = frame.ref ?? null
    if (this.roomId !== undefined) {
      this.sendError(ref, 'not_supported', 'a room socket watches its own room only; use /ws/ for subscribe and unsubscribe', frame.room_id)
      return
    }
    if (frame.type === 'unsubscribe') {
      const subscription = this.subscriptions.get(frame.room_id)
      if (subscription) this.endSubscription(subscription)
      return
    }
    if (!this.subscriptions.has(frame.room_id) && this.subscriptions.size >= this.gateway.settings.maxRoomsPerSocket) {
      this.sendError(ref, 'too_many_rooms', `a socket watches at most ${this.gateway.settings.maxRoomsPerSocket} rooms`, frame.room_id)
      return
    }
    void this.subscribe(frame.room_id, frame.after_seq, ref)
  }

  /**
   * Joins the room's channel (live events start waiting), checks
   * participation, replays stored events after `afterSeq`, then goes live.
   * Joining before reading the store is what makes the hand-over gapless:
   * everything committed before the read is in the replay, everything after
   * it arrives on the channel, and seq drops the overlap.
   */
  private async subscribe(roomId: string, afterSeq: number | undefined, ref: string | null): Promise<void> {
    const previous = this.subscriptions.get(roomId)
    if (previous) this.endSubscription(previous)
    const subscription = new RoomSubscription(this, roomId)
    this.subscriptions.set(roomId, subscription)
    const { db } = this.gateway.deps
    // A few subscribes at a time per socket: each may replay thousands of events.
    if (this.subscribesRunning >= this.gateway.settings.maxConcurrentSubscribes) {
      await new Promise<void>((resolve) => this.subscribesWaiting.push(resolve))
    }
    this.subscribesRunning++
    try {
      if (subscription.ended) return
      const userId = this.user?.id ?? ''
      // Refuse outsiders before taking a bus subscription for them.
      const early = await findSubscribeAccess(db, roomId, userId)
      if (subscription.ended) return
      if (early.kind !== 'participant') {
        this.refuse(subscription, early.kind === 'no_room' ? 'room_not_found' : 'not_a_member', ref)
        return
      }
      await this.withTimeout(this.gateway.join(subscription, roomId), this.gateway.settings.joinTimeoutMs, 'joining the room timed out')
      if (subscription.ended) return
      // Checked again after joining: this read's seq is where the replay hands over to the live stream.
      const access = await findSubscribeAccess(db, roomId, userId)
      if (subscription.ended) return
      if (access.kind !== 'participant') {
        this.refuse(subscription, access.kind === 'no_room' ? 'room_not_found' : 'not_a_member', ref)
        return
      }
      subscription.checkedSeq = access.lastSeq
      subscription.admitted = true
      const { maxReplayEvents } = this.gateway.settings
      if (afterSeq === undefined) {
        subscription.sentSeq = access.lastSeq
      } else if (afterSeq > access.lastSeq || access.lastSeq - afterSeq > maxReplayEvents) {
        this.resync(subscription, access.lastSeq)
      } else {
        subscription.sentSeq = afterSeq
        await this.replay(subscription, access.lastSeq)
      }
      subscription.goLive()
    } catch (error) {
      if (subscription.ended) return
      // The store or the bus is failing: the client reconnects with backoff and resumes every room.
      this.log.error({ err: error, roomId }, 'subscribing a socket failed')
      this.endSubscription(subscription)
      this.closeWith(1011, 'try again later')
    } finally {
      this.subscribesRunning--
      this.subscribesWaiting.shift()?.()
    }
  }

  private async withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms)
    })
    try {
      return await Promise.race([work, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Sends the stored events after `sentSeq` up to at least `untilSeq`, page by page, waiting for the socket to drain between pages. */
  private async replay(subscription: RoomSubscription, untilSeq: number): Promise<void> {
    const { db } = this.gateway.deps
    let first = true
    while (subscription.sentSeq < untilSeq && !subscription.ended) {
      const rows = await readRoomEvents(db, subscription.roomId, { afterSeq: subscription.sentSeq, limit: replayPage })
      if (subscription.ended) return
      if (first && rows[0]?.seq !== subscription.sentSeq + 1) {
        // The resume point is older than the kept history.
        this.resync(subscription, untilSeq)
        return
      }
      first = false
      if (rows.length === 0) return
      const limit = this.gateway.settings.sendQueueBytes
      for (const row of rows) {
        const event = storedRowToEvent(row)
        // A replay waits for the peer instead of overflowing its queue: only a peer that stops reading is too slow.
        if (this.socket.bufferedAmount > 0 && this.socket.bufferedAmount + event.bytes.length > limit) await this.drained()
        subscription.send(event)
        if (subscription.ended) return
      }
      this.gateway.stats.eventsReplayed += rows.length
      if (rows.length < replayPage) return
    }
  }

  private resync(subscription: RoomSubscription, lastSeq: number): void {
    this.gateway.stats.resyncs++
    this.sendFrame({ type: 'resync_required', room_id: subscription.roomId })
    subscription.sentSeq = lastSeq
  }

  /** Waits until the socket's send buffer is at most a quarter of its limit; a peer that does not read for long is too slow. */
  private async drained(): Promise<void> {
    const threshold = this.gateway.settings.sendQueueBytes / 4
    const deadline = Date.now() + drainWaitMs
    while (this.socket.bufferedAmount > threshold && !this.closing) {
      if (Date.now() > deadline) {
        this.tooSlow()
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  private refuse(subscription: RoomSubscription, code: 'room_not_found' | 'not_a_member', ref: string | null): void {
    this.endSubscription(subscription)
    if (this.roomId !== undefined) {
      this.closeWith(code === 'room_not_found' ? closeCodes.noSuchRoom : closeCodes.notAParticipant, code === 'room_not_found' ? 'no such room' : 'not a participant')
    } else {
      this.sendError(ref, code, code === 'room_not_found' ? 'no such room' : 'you do not participate in this room', subscription.roomId)
    }
  }

  /** A `participants.removed` event named this socket's user: the subscription ends here, on every gateway that sees the event. */
  removedFrom(subscription: RoomSubscription): void {
    this.endSubscription(subscription)
    if (this.roomId !== undefined) this.closeWith(closeCodes.notAParticipant, 'removed from the room')
    else this.sendError(null, 'not_a_member', 'you no longer participate in this room', subscription.roomId)
  }

  private endSubscription(subscription: RoomSubscription): void {
    if (subscription.ended) return
    subscription.ended = true
    subscription.dropBuffered()
    if (this.subscriptions.get(subscription.roomId) === subscription) this.subscriptions.delete(subscription.roomId)
    this.gateway.leave(subscription, subscription.roomId)
    this.stopTyping(subscription.roomId)
  }

  private async sendMessage(frame: ClientFrameOf<'message'>): Promise<void> {
    const ref = frame.ref ?? null
    const roomId = frame.room_id ?? this.roomId
    if (roomId === undefined) {
      this.sendError(ref, 'room_id_required', 'a message on /ws/ names its room_id')
      return
    }
    if (this.roomId !== undefined && roomId !== this.roomId) {
      this.sendError(ref, 'room_mismatch', 'a room socket sends to its own room only', roomId)
      return
    }
    const user = this.user
    if (!user) return
    this.stopTyping(roomId)
    const request = {
      user: { id: user.id, display_name: user.display_name },
      room_id: roomId,
      text: frame.text,
      ...(frame.client_msg_id !== undefined ? { client_msg_id: frame.client_msg_id } : {}),
      request_id: this.requestId
    }
    let reply: { message?: unknown; problem?: { code?: string; detail?: string } }
    try {
      const response = await this.gateway.deps.bus.request(this.gateway.settings.sendSubject, Buffer.from(JSON.stringify(request)), {
        timeoutMs: this.gateway.settings.sendTimeoutMs
      })
      reply = (JSON.parse(Buffer.from(response.data).toString('utf8')) ?? {}) as typeof reply
    } catch (error) {
      if (!(error instanceof BusError)) this.log.error({ err: error }, 'message request failed')
      const detail =
        error instanceof NoRespondersError
          ? 'the messages service is unavailable; retry with the same client_msg_id'
          : 'the message may not have been stored; retry with the same client_msg_id'
      this.sendError(ref, 'unavailable', detail, roomId)
      return
    }
    if (reply.message !== undefined) {
      this.sendFrame({ type: 'ack', ref, message: reply.message as Extract<ServerFrame, { type: 'ack' }>['message'] })
    } else {
      this.sendError(ref, reply.problem?.code ?? 'send_failed', reply.problem?.detail ?? 'the message was not stored', roomId)
    }
  }

  private onTyping(frame: ClientFrameOf<'typing'>): void {
    const roomId = frame.room_id ?? this.roomId
    if (roomId === undefined || !this.subscriptions.get(roomId)?.admitted) {
      this.sendError(null, 'not_subscribed', 'typing notices go to a subscribed room', roomId)
      return
    }
    if (frame.active === false) {
      this.stopTyping(roomId)
      return
    }
    const now = Date.now()
    const state = this.typing.get(roomId)
    if (state) clearTimeout(state.expiry)
    const expiry = setTimeout(() => this.stopTyping(roomId), typingExpiryMs)
    if (!state || now - state.lastPublishedAt >= typingRepeatMs) {
      this.typing.set(roomId, { lastPublishedAt: now, expiry })
      this.publishTyping(roomId, true)
    } else {
      this.typing.set(roomId, { lastPublishedAt: state.lastPublishedAt, expiry })
    }
  }

  private stopTyping(roomId: string): void {
    const state = this.typing.get(roomId)
    if (!state) return
    clearTimeout(state.expiry)
    this.typing.delete(roomId)
    this.publishTyping(roomId, false)
  }

  private publishTyping(roomId: string, active: boolean): void {
    const user = this.user
    if (!user) return
    const bytes = Buffer.from(JSON.stringify({ type: 'typing', room_id: roomId, user, active }))
    this.gateway.deps.bus
      .publish(subjects.roomTyping(roomId), bytes, { headers: { [typingUserHeader]: user.id } })
      .catch((error: unknown) => this.log.debug({ err: error, roomId }, 'typing notice not published'))
  }

  sendFrame(frame: ServerFrame): boolean {
    return this.sendBytes(Buffer.from(JSON.stringify(frame)))
  }

  private sendError(ref: string | null, code: string, detail: string, roomId?: string): void {
    this.sendFrame({ type: 'error', ref, code, detail, ...(roomId !== undefined ? { room_id: roomId } : {}) })
  }

  /** Queues bytes on the socket unless its send buffer would pass the limit, which closes it with 4408. */
  sendBytes(bytes: Buffer): boolean {
    if (this.closing) return false
    const queued = this.socket.bufferedAmount
    // One frame larger than the whole limit still goes out on an empty queue.
    if (queued > 0 && queued + bytes.length > this.gateway.settings.sendQueueBytes) {
      this.tooSlow()
      return false
    }
    this.socket.send(bytes, textFrame)
    return true
  }

  holdBytes(bytes: number): void {
    this.heldBytes += bytes
    if (this.heldBytes + this.socket.bufferedAmount > this.gateway.settings.sendQueueBytes) this.tooSlow()
  }

  releaseBytes(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes)
  }

  tooSlow(): void {
    this.closeWith(closeCodes.tooSlow, 'too slow: resume with after_seq')
  }

  heartbeat(now = Date.now()): void {
    if (this.closing) return
    if (this.expiresAt !== undefined && now >= this.expiresAt) {
      this.closeWith(closeCodes.unauthenticated, 'token expired')
      return
    }
    if (!this.alive) {
      this.log.info('socket missed a heartbeat; dropping it')
      this.socket.terminate()
      return
    }
    this.alive = false
    this.socket.ping()
  }

  /** Closes with a code the client can read; a peer that does not finish the close handshake is cut off. */
  closeWith(code: number, reason: string): void {
    if (this.closing) return
    this.closing = true
    this.cleanUp()
    this.socket.close(code, reason)
    setTimeout(() => this.socket.terminate(), closeGraceMs).unref()
  }

  private cleanUp(): void {
    this.closing = true
    this.waiting = undefined
    if (this.user && this.roomId === undefined) this.gateway.unwatchJoins(this, this.user.id)
    for (const subscription of [...this.subscriptions.values()]) this.endSubscription(subscription)
    for (const roomId of [...this.typing.keys()]) this.stopTyping(roomId)
  }
}
