import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import type { Tracer } from '@opentelemetry/api'
import type { EventBus } from '@chat/bus'
import type { User } from '@chat/contracts'
import type { PresenceTracker, TokenVerifier } from '@chat/service-kit'
import { socketCloses } from './errors.js'
import type { GatewaySettings, GatewayStats, SessionContext, UserListener } from './gateway-context.js'
import { GatewayPresence } from './gateway-presence.js'
import { RoomChannel, type ChannelMember, type DeliveryLagObserver } from './room-channel.js'
import type { RoomHistory } from './room-history.js'
import { UserNotices } from './user-notices.js'
import type { MessagesClient } from './send-request.client.js'
import { Session } from './session.js'
import type { SocketAcceptor } from './sockets.routes.js'
import { publishTypingNotice } from './typing-notices.js'
import type { UpgradeRequest } from './upgrade-request.js'

export interface GatewayDeps {
  history: RoomHistory
  bus: EventBus
  verifier: TokenVerifier
  messages: MessagesClient
  findUser(userId: string): Promise<User | undefined>
  logger: FastifyBaseLogger
  /** Observes each live event's delivery lag (the metrics' histogram). */
  deliveryLag?: DeliveryLagObserver
  /** The process's tracer when it traces. */
  tracer?: Tracer
  /** Who is online on every gateway (chat.presence.update). */
  presenceTracker: PresenceTracker
  /** Everyone sharing a room with a user. */
  coMembers(userId: string): Promise<string[]>
  markLastSeen(userIds: readonly string[], at: Date): Promise<void>
}

/**
 * @fastify/websocket routes an upgrade through Fastify with a ServerResponse
 * assigned to the TCP socket, and an error listener that holds the request
 * and reply. Both would live as long as the socket: the ServerResponse, the
 * IncomingMessage with its headers (and token), Fastify's request and reply
 * and a child logger, about 3 KB per idle socket. The session logs socket
 * errors itself and needs none of them.
 */
function releaseUpgradeRequest(socket: WebSocket, request: UpgradeRequest): void {
  socket.removeAllListeners('error')
  const tcp = request.raw?.socket as (Socket & { _httpMessage?: ServerResponse | null }) | undefined
  if (tcp?._httpMessage) tcp._httpMessage.detachSocket(tcp)
}

interface ChannelEntry {
  channel: RoomChannel
  ready: Promise<void>
}

/**
 * The realtime gateway of one process (Centrifuge's hub): its sessions, and
 * one channel per room that at least one of them watches (interest-based:
 * the bus subscription of a room exists only while a local socket needs it).
 */
export class RealtimeGateway implements SessionContext, SocketAcceptor {
  readonly connections = new Set<Session>()
  readonly stats: GatewayStats = {
    socketsOpen: 0,
    eventsSent: 0,
    eventsReplayed: 0,
    duplicates: 0,
    gapFills: 0,
    catchUps: 0,
    channelsOpened: 0,
    socketsAccepted: 0,
    framesDropped: 0,
    reconciliations: 0,
    resyncs: 0,
    closes: new Map(),
    serverCloses: new Map()
  }
  readonly logger: FastifyBaseLogger
  readonly verifier: TokenVerifier
  readonly history: RoomHistory
  readonly messages: MessagesClient
  private readonly channels = new Map<string, ChannelEntry>()
  private readonly userNotices: UserNotices
  readonly presence: GatewayPresence
  private shuttingDown = false

  constructor(
    private readonly deps: GatewayDeps,
    readonly settings: GatewaySettings
  ) {
    this.logger = deps.logger
    this.verifier = deps.verifier
    this.history = deps.history
    this.messages = deps.messages
    this.userNotices = new UserNotices(deps.bus, deps.logger)
    const notices = this.userNotices
    this.presence = new GatewayPresence(
      {
        bus: deps.bus,
        tracker: deps.presenceTracker,
        logger: deps.logger,
        findUser: (userId) => deps.findUser(userId),
        coMembers: (userId) => deps.coMembers(userId),
        markLastSeen: (userIds, at) => deps.markLastSeen(userIds, at),
        deliver: (userId, bytes) => notices.deliver(userId, bytes),
        hasListeners: () => notices.hasListeners,
        listens: (userId) => notices.listens(userId)
      },
      { ttlMs: settings.presenceTtlMs, debounceMs: settings.presenceDebounceMs }
    )
  }

  /** Rooms with a bus subscription on this gateway right now. */
  get watchedRooms(): number {
    return this.channels.size
  }

  /** Takes a freshly upgraded socket; `roomId` is set for `/ws/chat/:room_id/`. */
  accept(socket: WebSocket, request: UpgradeRequest, roomId: string | undefined): void {
    releaseUpgradeRequest(socket, request)
    const session = new Session(this, socket, request, roomId)
    if (this.shuttingDown) {
      session.closeWith(socketCloses.goingAway)
      return
    }
    this.connections.add(session)
    this.stats.socketsOpen++
    this.stats.socketsAccepted++
    socket.once('close', (code) => {
      this.connections.delete(session)
      this.stats.socketsOpen--
      this.stats.closes.set(code, (this.stats.closes.get(code) ?? 0) + 1)
    })
    void session.start()
  }

  findUser(userId: string): Promise<User | undefined> {
    return this.deps.findUser(userId)
  }

  async join(member: ChannelMember, roomId: string): Promise<void> {
    let entry = this.channels.get(roomId)
    if (!entry) {
      const channel: RoomChannel = new RoomChannel(roomId, {
        history: this.deps.history,
        bus: this.deps.bus,
        logger: this.deps.logger,
        stats: this.stats,
        deliveryLag: this.deps.deliveryLag,
        tracer: this.deps.tracer,
        onBroken: (broken) => {
          if (this.channels.get(roomId)?.channel === broken) this.channels.delete(roomId)
        }
      })
      this.stats.channelsOpened++
      const created: ChannelEntry = { channel, ready: channel.open() }
      created.ready.catch((error: unknown) => {
        this.deps.logger.warn({ err: error, roomId }, 'opening a room channel failed')
        if (this.channels.get(roomId) === created) this.channels.delete(roomId)
        this.closeChannel(channel)
      })
      this.channels.set(roomId, created)
      entry = created
    }
    entry.channel.members.add(member)
    try {
      await entry.ready
    } catch (error) {
      entry.channel.members.delete(member)
      throw error
    }
  }

  leave(member: ChannelMember, roomId: string): void {
    const entry = this.channels.get(roomId)
    if (!entry || !entry.channel.members.delete(member)) return
    if (entry.channel.members.size === 0) {
      this.channels.delete(roomId)
      this.closeChannel(entry.channel)
    }
  }

  watchUser(listener: UserListener, userId: string): Promise<void> {
    return this.userNotices.watch(listener, userId)
  }

  unwatchUser(listener: UserListener, userId: string): void {
    this.userNotices.unwatch(listener, userId)
  }

  presenceConnected(userId: string): void {
    this.presence.connected(userId)
  }

  presenceDisconnected(userId: string): void {
    this.presence.disconnected(userId)
  }

  publishTyping(roomId: string, user: User, active: boolean, log: FastifyBaseLogger): void {
    publishTypingNotice(this.deps.bus, roomId, user, active, log)
  }

  /**
   * Compares each watched room's seq in the store with what its channel has
   * sent (one query per thousand rooms), so that events the bus lost (core
   * NATS is at most once: a reconnect, a slow consumer) still go out.
   */
  async reconcile(): Promise<void> {
    if (this.channels.size === 0) return
    this.stats.reconciliations++
    const seqs = await this.deps.history.lastSeqs([...this.channels.keys()])
    for (const [roomId, seq] of seqs) this.channels.get(roomId)?.channel.catchUp(seq)
  }

  /** One heartbeat round: a socket that did not answer the previous ping is dropped, one whose token expired is closed with 4401. */
  heartbeat(): void {
    const now = Date.now()
    for (const session of this.connections) session.heartbeat(now)
  }

  /** Stops taking sockets and closes every open one with 1001. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true
    for (const session of this.connections) session.closeWith(socketCloses.goingAway)
    const channels = [...this.channels.values()]
    this.channels.clear()
    await Promise.allSettled(channels.map((entry) => entry.channel.close()))
    await this.userNotices.close()
    await this.presence.shutdown()
  }

  private closeChannel(channel: RoomChannel): void {
    channel.close().catch((error: unknown) => this.deps.logger.warn({ err: error, roomId: channel.roomId }, 'unsubscribing a room failed'))
  }
}
