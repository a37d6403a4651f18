import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { WebSocket } from 'ws'
import type { EventBus } from '@chat/bus'
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
  /** Rooms one `/ws/` socket may watch at once. */
  maxRoomsPerSocket: number
}

export interface GatewayStats {
  socketsOpen: number
  eventsSent: number
  eventsReplayed: number
  duplicates: number
  gapFills: number
  resyncs: number
  closes: Map<number, number>
}

export interface GatewayDeps {
  db: Kysely<Database>
  bus: EventBus
  verifier: TokenVerifier
  logger: FastifyBaseLogger
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
    resyncs: 0,
    closes: new Map()
  }
  private readonly channels = new Map<string, ChannelEntry>()
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
  }
}
