import type { FastifyBaseLogger } from 'fastify'
import type { User } from '@chat/contracts'
import type { TokenVerifier } from '@chat/service-kit'
import type { ChannelMember } from './room-channel.js'
import type { RoomHistory } from './room-history.js'
import type { MessagesClient } from './send-request.client.js'

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
  /** A presence entry this gateway stops refreshing lapses after this long (a killed gateway's users go offline). */
  presenceTtlMs: number
  /** A user whose last socket closed is reported offline this long after, unless one reopened. */
  presenceDebounceMs: number
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
  /** Sockets accepted (upgraded), open or since closed. */
  socketsAccepted: number
  /** Frames not written because the socket's send queue was full (the socket is closed with 4408). */
  framesDropped: number
  /** Comparisons of the watched rooms with the store (each may catch up several rooms). */
  reconciliations: number
  /** Sockets closed, by the code the socket ended with (1006 for one cut off). */
  closes: Map<number, number>
  /**
   * Closes the gateway started, by the code it sent: a slow peer gets 4408
   * queued behind what it has not read, and may only see 1006 when the
   * close handshake times out.
   */
  serverCloses: Map<number, number>
}

/** A `/ws/` socket, told what concerns its user beyond its subscriptions. */
export interface UserListener {
  /** The user was added to a room, or made one (maybe on another device). */
  notifyJoined(roomId: string): void
  /**
   * A frame for the user, sent as is: `mention` (the user was mentioned) or
   * `presence` (someone who shares a room with the user went on- or offline).
   */
  notify(bytes: Buffer): void
}

/**
 * What a session and its frame handlers need of the gateway. The gateway
 * implements it, so that nothing but the plugin imports the gateway (as
 * Centrifuge's client sees its node through a few methods).
 */
export interface SessionContext {
  readonly settings: GatewaySettings
  readonly stats: GatewayStats
  readonly logger: FastifyBaseLogger
  readonly verifier: TokenVerifier
  readonly history: RoomHistory
  readonly messages: MessagesClient
  /** The user a verified token names; undefined when the account is gone. */
  findUser(userId: string): Promise<User | undefined>
  /** Adds a member to the room's channel, opening the channel first when it is the room's first. */
  join(member: ChannelMember, roomId: string): Promise<void>
  leave(member: ChannelMember, roomId: string): void
  /** Registers an authenticated `/ws/` socket for `room.joined` and `mention` notices; resolves once the bus delivers them. */
  watchUser(listener: UserListener, userId: string): Promise<void>
  unwatchUser(listener: UserListener, userId: string): void
  /** A socket of the user is open (authenticated) here; each call is matched by one presenceDisconnected. */
  presenceConnected(userId: string): void
  presenceDisconnected(userId: string): void
  /** Publishes a typing notice of `user` in the room (ephemeral: core NATS); failures are logged, not thrown. */
  publishTyping(roomId: string, user: User, active: boolean, log: FastifyBaseLogger): void
}
