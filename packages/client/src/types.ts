import type { ClientFrame, Message, ReactionListEntry, RoomEventFrame, ServerFrame } from '@chat/contracts'
import type { ChatSocketError } from './errors.js'

export type {
  Avatar,
  Block,
  ClientFrame,
  Me,
  Message,
  Participant,
  ParticipantRole,
  ProblemDetails,
  Reaction,
  ReactionCounts,
  Room,
  RoomEventFrame,
  RoomEventType,
  RoomKind,
  RoomsInvite,
  SearchHighlight,
  SearchHit,
  SearchHitRoom,
  ServerFrame,
  Session,
  User,
  UserPresence,
  ValidationIssue
} from '@chat/contracts'

/** One entry of `GET /emoji/`. */
export type Emoji = ReactionListEntry

export type TypingFrame = Extract<ServerFrame, { type: 'typing' }>
export type RoomJoinedFrame = Extract<ServerFrame, { type: 'room.joined' }>
export type MentionFrame = Extract<ServerFrame, { type: 'mention' }>
export type PresenceFrame = Extract<ServerFrame, { type: 'presence' }>
export type ReadFrame = Extract<ServerFrame, { type: 'read' }>
export type SubscribedFrame = Extract<ServerFrame, { type: 'subscribed' }>
export type ResyncRequiredFrame = Extract<ServerFrame, { type: 'resync_required' }>
export type AckFrame = Extract<ServerFrame, { type: 'ack' }>
export type ErrorFrame = Extract<ServerFrame, { type: 'error' }>
export type PongFrame = Extract<ServerFrame, { type: 'pong' }>

/**
 * The part of a WebSocket the client uses: the browser's `WebSocket` and the
 * `ws` package's class both fit.
 */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'open', listener: (event: unknown) => void): void
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void
  addEventListener(type: 'error', listener: (event: unknown) => void): void
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

/** A message frame waiting for its `ack` (internal). */
export interface PendingMessage {
  frame: Extract<ClientFrame, { type: 'message' }>
  resolve: (message: Message) => void
  reject: (error: ChatSocketError) => void
}

/** A ping waiting for its `pong` (internal). */
export interface PendingPing {
  startedAt: number
  resolve: (roundTripMs: number) => void
  reject: (error: ChatSocketError) => void
}

/** What a socket needs from the HTTP client (internal: not exported by the package). */
export interface SocketAuth {
  accessToken(): string | undefined
  /** A fresh access token after `rejectedToken` was refused; throws when none can be had. */
  renewAfterRejection(rejectedToken: string | undefined): Promise<string>
}

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

export type ChatSocketEvents = {
  /** Connection state for a UI. */
  state: (state: ConnectionState) => void
  /** A room event, in seq order per room, each seq once. */
  event: (frame: RoomEventFrame) => void
  typing: (frame: TypingFrame) => void
  /** `/ws/` only: the user was added to a room this socket does not watch yet; subscribe to follow it. */
  room_joined: (frame: RoomJoinedFrame) => void
  /** `/ws/` only: the user was mentioned in a room, whether or not this socket watches it. */
  mention: (frame: MentionFrame) => void
  /** `/ws/` only: someone who shares a room with the user came online or went offline. */
  presence: (frame: PresenceFrame) => void
  /** A participant of a watched room moved their read position forward (to `seq`): for "seen by". */
  read: (frame: ReadFrame) => void
  subscribed: (frame: SubscribedFrame) => void
  /** The resume point is older than the kept history: reload the room, then call `resetRoom`. */
  resync_required: (frame: ResyncRequiredFrame) => void
  /** An error frame that answers no call of this client, a room stopped by the server, or the end of the socket. */
  error: (error: ChatSocketError) => void
}
