import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { WebSocket } from 'ws'
import type { BusMessage, BusSubscription, EventBus } from '@chat/bus'
import { subjects } from '@chat/contracts'
import type { Database } from '@chat/db'
import type { TokenVerifier } from '@chat/service-kit'
import { Connection, type ConnectionRequest } from './connection.js'
import { RoomChannel, type ChannelMember } from './room-channel.js'

export interface GatewaySettings {
  /** Bytes a socket may have waiting to be sent; past it the socket is closed with 4408. */
  sendQueueBytes: number
  /** Most events one resume replays; further behind gets resync_required. */
  maxReplayEvents: number
  /** Client frames per second per socket; 0 turns the limit off. */
  rateLimitFps: number
  rateLimitBurst: number
  /** How long a message frame waits for the messages service. */
  sendTimeoutMs: number
  /** Subject of the messages service's send requests (its `sendSubject`). */
  sendSubject: string
  /** Rooms one `/ws/` socket may watch at once. */
  maxRoomsPerSocket: number
  /** Subscribes one socket may have in progress (access check and replay); more wait their turn. */
  maxConcurrentSubscribes: number
  /** How long joining a room's bus subscription may take before the socket is told to come back. */
  joinTimeoutMs: number
}

export interface GatewayStats {
  socketsOpen: number
  eventsSent: number
  eventsReplayed: number
  duplicates: number
  gapFills: number
  catchUps: number
  resyncs: number
  /** Bus subscriptions taken for rooms (a channel opened). */
  channelsOpened: number
  closes: Map<number, number>
}

export interface GatewayDeps {
  db: Kysely<Database>
  bus: EventBus
  verifier: TokenVerifier
  logger: FastifyBaseLogger
}

/**
 * @fastify/websocket routes an upgrade through Fastify with a ServerResponse
 * assigned to the TCP socket, and an error listener that holds the request
 * and reply. Both would live as long as the socket: the ServerResponse, the
 * IncomingMessage with its headers (and token), Fastify's request and reply
 * and a child logger, about 3 KB per idle socket. The connection logs socket
 * errors itself and needs none of them.
 */
function releaseUpgradeRequest(socket: WebSocket, request: ConnectionRequest): void {
  socket.removeAllListeners('error')
  const tcp = request.raw?.socket as (Socket & { _httpMessage?: ServerResponse | null }) | undefined
  if (tcp?._httpMessage) tcp._httpMessage.detachSocket(tcp)
}

interface ChannelEntry {
  channel: RoomChannel
  ready: Promise<void>
}

/**
 * The realtime gateway of one process: its sockets, and one channel per room
 * that at least one of them watches (interest-based: the bus subscription of
 * a room exists only while a local socket needs it).
 */
export class RealtimeGateway {
  readonly connections = new Set<Connection>()
  readonly stats: GatewayStats = {
    socketsOpen: 0,
    eventsSent: 0,
    eventsReplayed: 0,
    duplicates: 0,
    gapFills: 0,
    catchUps: 0,
    channelsOpened: 0,
    resyncs: 0,
    closes: new Map()
  }
  private readonly channels = new Map<string, ChannelEntry>()
  /** `/ws/` sockets by user, told when their user is added to a room. */
  private readonly multiRoomSockets = new Map<string, Set<Connection>>()
  private joinedSubscription: Promise<BusSubscription> | undefined
  private shuttingDown = false

  constructor(
    readonly deps: GatewayDeps,
    readonly settings: GatewaySettings
  ) {}

  /** Rooms with a bus subscription on this gateway right now. */
  get watchedRooms(): number {
    return this.channels.size
  }

  /** Takes a freshly upgraded socket; `roomId` is set for `/ws/chat/:room_id/`. */
  accept(socket: WebSocket, request: ConnectionRequest, roomId: string | undefined): void {
    releaseUpgradeRequest(socket, request)
    const connection = new Connection(this, socket, request, roomId)
    if (this.shuttingDown) {
      connection.closeWith(1001, 'server going away')
      return
    }
    this.connections.add(connection)
    this.stats.socketsOpen++
    socket.once('close', (code) => {
      this.connections.delete(connection)
      this.stats.socketsOpen--
      this.stats.closes.set(code, (this.stats.closes.get(code) ?? 0) + 1)
    })
    void connection.start()
  }

  /** Adds a member to the room's channel, opening the channel first when it is the room's first. */
  async join(member: ChannelMember, roomId: string): Promise<RoomChannel> {
    let entry = this.channels.get(roomId)
    if (!entry) {
      const channel: RoomChannel = new RoomChannel(roomId, {
        db: this.deps.db,
        bus: this.deps.bus,
        logger: this.deps.logger,
        stats: this.stats,
        onBroken: (broken) => {
          if (this.channels.get(roomId)?.channel === broken) this.channels.delete(roomId)
        }
      })
      this.stats.channelsOpened++
      const created: ChannelEntry = { channel, ready: channel.open() }
      created.ready.catch(() => {
        if (this.channels.get(roomId) === created) this.channels.delete(roomId)
        void channel.close()
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
    return entry.channel
  }

  leave(member: ChannelMember, roomId: string): void {
    const entry = this.channels.get(roomId)
    if (!entry || !entry.channel.members.delete(member)) return
    if (entry.channel.members.size === 0) {
      this.channels.delete(roomId)
      entry.channel.close().catch((error: unknown) => this.deps.logger.warn({ err: error, roomId }, 'unsubscribing a room failed'))
    }
  }

  /**
   * Registers an authenticated `/ws/` socket for `room.joined` notices. The
   * gateway subscribes to every room's `participants.added` once, with its
   * first such socket: those events are rare next to messages.
   */
  async watchJoins(connection: Connection, userId: string): Promise<void> {
    let sockets = this.multiRoomSockets.get(userId)
    if (!sockets) {
      sockets = new Set()
      this.multiRoomSockets.set(userId, sockets)
    }
    sockets.add(connection)
    if (!this.joinedSubscription) {
      const subscribing = this.deps.bus.subscribe(subjects.anyRoomEvent('participants.added'), (message) => this.onParticipantsAdded(message))
      this.joinedSubscription = subscribing
      subscribing.catch((error: unknown) => {
        this.deps.logger.error({ err: error }, 'subscribing to participants.added failed; room.joined notices are off until the next socket')
        if (this.joinedSubscription === subscribing) this.joinedSubscription = undefined
      })
    }
    await this.joinedSubscription
  }

  unwatchJoins(connection: Connection, userId: string): void {
    const sockets = this.multiRoomSockets.get(userId)
    if (!sockets) return
    sockets.delete(connection)
    if (sockets.size === 0) this.multiRoomSockets.delete(userId)
  }

  private onParticipantsAdded(message: BusMessage): void {
    if (this.multiRoomSockets.size === 0) return
    let frame: { room_id?: unknown; users?: Array<{ id?: unknown }> }
    try {
      frame = JSON.parse(Buffer.from(message.data).toString('utf8')) as typeof frame
    } catch {
      return
    }
    if (typeof frame.room_id !== 'string' || !Array.isArray(frame.users)) return
    for (const user of frame.users) {
      const sockets = typeof user.id === 'string' ? this.multiRoomSockets.get(user.id) : undefined
      for (const connection of sockets ?? []) connection.notifyJoined(frame.room_id)
    }
  }

  /**
   * Compares each watched room's seq in the store with what its channel has
   * sent (one query for all of them), so that events the bus lost (core NATS
   * is at most once: a reconnect, a slow consumer) still go out.
   */
  async reconcile(): Promise<void> {
    const roomIds = [...this.channels.keys()]
    for (let start = 0; start < roomIds.length; start += 1000) {
      const rows = await this.deps.db
        .selectFrom('rooms')
        .select(['id', 'last_seq'])
        .where('id', 'in', roomIds.slice(start, start + 1000))
        .execute()
      for (const row of rows) this.channels.get(row.id)?.channel.catchUp(Number(row.last_seq))
    }
  }

  /** One heartbeat round: a socket that did not answer the previous ping is dropped, one whose token expired is closed with 4401. */
  heartbeat(): void {
    const now = Date.now()
    for (const connection of this.connections) connection.heartbeat(now)
  }

  /** Stops taking sockets and closes every open one with 1001. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true
    for (const connection of this.connections) connection.closeWith(1001, 'server going away')
    const channels = [...this.channels.values()]
    this.channels.clear()
    await Promise.allSettled(channels.map((entry) => entry.channel.close()))
    const joined = this.joinedSubscription
    this.joinedSubscription = undefined
    if (joined) await joined.then((subscription) => subscription.unsubscribe()).catch(() => undefined)
  }
}
