import type { FastifyBaseLogger } from 'fastify'
import type { RawData, WebSocket } from 'ws'
import { Compile } from 'typebox/compile'
import { ClientFrame, type ServerFrame, type User } from '@chat/contracts'
import { InvalidTokenError } from '@chat/service-kit'
import { frameErrors, socketCloses, type FrameError, type SocketClose } from './errors.js'
import { Turns, type FrameSession } from './frames/frame-session.js'
import { onMessage } from './frames/message.handler.js'
import { onPing } from './frames/ping.handler.js'
import { onSubscribe, subscribeRoom } from './frames/subscribe.handler.js'
import { onTyping } from './frames/typing.handler.js'
import { onUnsubscribe } from './frames/unsubscribe.handler.js'
import type { SessionContext, UserListener } from './gateway-context.js'
import type { RoomSubscription } from './room-subscription.js'
import { TypingNotices } from './typing-notices.js'
import { afterSeqOf, isRoomId, socketToken, type UpgradeRequest } from './upgrade-request.js'

const clientFrameCheck = Compile(ClientFrame)
const textFrame = { binary: false } as const
const closeGraceMs = 5_000
const drainWaitMs = 10_000
/** Client frames kept while the token is being verified; more close the socket. */
const maxWaitingFrames = 32

/**
 * One client socket (Centrifuge's client): authentication, the token's
 * expiry and the heartbeat, the frame rate limit, the send queue, closing;
 * its room subscriptions (one fixed room for `/ws/chat/:room_id/`, any number
 * for `/ws/`); client frames go to their handlers.
 */
export class Session implements FrameSession, UserListener {
  user: User | undefined
  /** When the token the socket was opened with expires: the socket ends with 4401 then, and the client reconnects with a fresh one. */
  expiresAt: number | undefined
  alive = true
  readonly subscriptions = new Map<string, RoomSubscription>()
  readonly typing: TypingNotices
  readonly subscribeTurns: Turns
  private closing = false
  /** Counted as one of the user's open sockets (presence) until cleaned up. */
  private present = false
  private waiting: RawData[] | undefined = []
  /** Bytes of live events held for subscriptions that are still replaying; they count against the send queue. */
  private heldBytes = 0
  private tokens: number
  private tokensAt = Date.now()

  /** Read from the upgrade request, which is not kept: an idle socket should cost as little memory as possible. */
  private token: string | undefined
  private readonly afterSeq: number | undefined | null
  readonly requestId: string

  constructor(
    readonly context: SessionContext,
    readonly socket: WebSocket,
    request: UpgradeRequest,
    readonly roomId: string | undefined
  ) {
    this.token = socketToken(request)
    this.afterSeq = afterSeqOf(request.query)
    this.requestId = request.id
    this.tokens = context.settings.rateLimitBurst
    this.subscribeTurns = new Turns(context.settings.maxConcurrentSubscribes)
    this.typing = new TypingNotices((roomId, active) => {
      if (this.user) context.publishTyping(roomId, this.user, active, this.log)
    })
    // Listeners go on at once: frames sent before authentication finishes wait in `waiting`.
    socket.on('message', (data, isBinary) => this.onFrame(data, isBinary))
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
    return this.context.logger.child({ reqId: this.requestId })
  }

  get stats(): { eventsSent: number } {
    return this.context.stats
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount
  }

  /** Authenticates, subscribes a room socket to its room, then handles the frames that waited. Never rejects. */
  async start(): Promise<void> {
    const { verifier } = this.context
    let userId: string
    try {
      const token = this.token
      this.token = undefined
      const verified = await verifier.verify(token)
      userId = verified.id
      this.expiresAt = verified.expiresAt
    } catch (error) {
      if (error instanceof InvalidTokenError) this.closeWith(socketCloses.unauthenticated(error.message))
      else {
        this.log.warn({ err: error }, 'token verification unavailable')
        this.closeWith(socketCloses.keysUnavailable)
      }
      return
    }
    try {
      this.user = await this.context.findUser(userId)
      if (!this.user) {
        this.closeWith(socketCloses.unknownUser)
        return
      }
    } catch (error) {
      this.log.error({ err: error }, 'loading the socket user failed')
      this.closeWith(socketCloses.unavailable)
      return
    }
    if (this.closing) return
    this.present = true
    this.context.presenceConnected(userId)
    if (this.roomId !== undefined) {
      if (this.afterSeq === null) {
        this.closeWith(socketCloses.badAfterSeq)
        return
      }
      if (!isRoomId(this.roomId)) {
        this.closeWith(socketCloses.noSuchRoom)
        return
      }
      subscribeRoom(this, this.roomId, this.afterSeq, null)
    } else {
      // Logged by the gateway when it fails; the socket works without its notices.
      await this.context.watchUser(this, userId).catch(() => undefined)
    }
    if (this.closing) return
    const waiting = this.waiting ?? []
    this.waiting = undefined
    for (const data of waiting) this.handle(data)
  }

  /** This socket's user was added to a room or made one (on `/ws/` only): tell the client, unless it already watches the room. */
  notifyJoined(roomId: string): void {
    if (!this.subscriptions.has(roomId)) this.sendFrame({ type: 'room.joined', room_id: roomId })
  }

  /** A `mention` or `presence` frame for this socket's user (on `/ws/` only): it goes out whether or not the socket watches the room. */
  notify(bytes: Buffer): void {
    this.sendBytes(bytes)
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    this.alive = true
    if (this.closing) return
    if (!this.takeToken()) {
      this.closeWith(socketCloses.rateLimited)
      return
    }
    if (isBinary) {
      this.sendError(null, frameErrors.binaryFrame)
      return
    }
    if (!this.waiting) {
      this.handle(data)
      return
    }
    if (this.waiting.length >= maxWaitingFrames) {
      this.closeWith(socketCloses.tooManyEarlyFrames)
      return
    }
    this.waiting.push(data)
  }

  /** Token bucket: `rateLimitFps` per second, bursts of `rateLimitBurst`. */
  private takeToken(): boolean {
    const { rateLimitFps, rateLimitBurst } = this.context.settings
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
      this.sendError(null, frameErrors.notJson)
      return
    }
    if (!clientFrameCheck.Check(frame)) {
      const ref = typeof (frame as { ref?: unknown } | null)?.ref === 'string' ? (frame as { ref: string }).ref : null
      const [first] = clientFrameCheck.Errors(frame)
      this.sendError(ref, frameErrors.invalidFrame(first ? `${first.instancePath || '/'} ${first.message}` : 'not a client frame'))
      return
    }
    switch (frame.type) {
      case 'ping':
        return onPing(this, frame)
      case 'message':
        return onMessage(this, frame)
      case 'typing':
        return onTyping(this, frame)
      case 'subscribe':
        return onSubscribe(this, frame)
      case 'unsubscribe':
        return onUnsubscribe(this, frame)
    }
  }

  /** A `participants.removed` event named this socket's user: the subscription ends here, on every gateway that sees the event. */
  removedFrom(subscription: RoomSubscription): void {
    this.endSubscription(subscription)
    if (this.roomId !== undefined) this.closeWith(socketCloses.removed)
    else this.sendError(null, frameErrors.removed, subscription.roomId)
  }

  endSubscription(subscription: RoomSubscription): void {
    if (subscription.ended) return
    subscription.end()
    if (this.subscriptions.get(subscription.roomId) === subscription) this.subscriptions.delete(subscription.roomId)
    this.context.leave(subscription, subscription.roomId)
    this.typing.stop(subscription.roomId)
  }

  sendFrame(frame: ServerFrame): boolean {
    return this.sendBytes(Buffer.from(JSON.stringify(frame)))
  }

  sendError(ref: string | null, error: FrameError, roomId?: string): void {
    this.sendFrame({ type: 'error', ref, code: error.code, detail: error.detail, ...(roomId !== undefined ? { room_id: roomId } : {}) })
  }

  /** Queues bytes on the socket unless its send buffer would pass the limit, which closes it with 4408. */
  sendBytes(bytes: Buffer): boolean {
    if (this.closing) return false
    const queued = this.socket.bufferedAmount
    // One frame larger than the whole limit still goes out on an empty queue.
    if (queued > 0 && queued + bytes.length > this.context.settings.sendQueueBytes) {
      this.context.stats.framesDropped++
      this.tooSlow()
      return false
    }
    this.socket.send(bytes, textFrame)
    return true
  }

  holdBytes(bytes: number): void {
    this.heldBytes += bytes
    if (this.heldBytes + this.socket.bufferedAmount > this.context.settings.sendQueueBytes) this.tooSlow()
  }

  releaseBytes(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes)
  }

  /** Waits until the socket's send buffer is at most a quarter of its limit; a peer that does not read for long is too slow. */
  async drained(): Promise<void> {
    const threshold = this.context.settings.sendQueueBytes / 4
    const deadline = Date.now() + drainWaitMs
    while (this.socket.bufferedAmount > threshold && !this.closing) {
      if (Date.now() > deadline) {
        this.tooSlow()
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  private tooSlow(): void {
    this.closeWith(socketCloses.tooSlow)
  }

  /** One heartbeat round: the token's expiry, then the previous ping's answer. */
  heartbeat(now = Date.now()): void {
    if (this.closing) return
    if (this.expiresAt !== undefined && now >= this.expiresAt) {
      this.closeWith(socketCloses.tokenExpired)
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
  closeWith(close: SocketClose): void {
    if (this.closing) return
    this.closing = true
    const closes = this.context.stats.serverCloses
    closes.set(close.code, (closes.get(close.code) ?? 0) + 1)
    this.cleanUp()
    this.socket.close(close.code, close.reason)
    setTimeout(() => this.socket.terminate(), closeGraceMs).unref()
  }

  private cleanUp(): void {
    this.closing = true
    this.waiting = undefined
    if (this.user && this.roomId === undefined) {
      this.context.unwatchUser(this, this.user.id)
    }
    if (this.present && this.user) {
      this.present = false
      this.context.presenceDisconnected(this.user.id)
    }
    for (const subscription of [...this.subscriptions.values()]) this.endSubscription(subscription)
    this.typing.stopAll()
  }
}
