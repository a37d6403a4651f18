import type { ServerFrame, User } from '@chat/contracts'

export type {
  Avatar,
  ClientFrame,
  Message,
  Participant,
  ProblemDetails,
  ReactionCounts,
  Room,
  RoomEventFrame,
  RoomEventType,
  ServerFrame,
  Session,
  User,
  ValidationIssue
} from '@chat/contracts'

/** api.md's `Reaction` (contracts has no schema for it yet). */
export interface Reaction {
  message_id: string
  user: User
  reaction: string
  created_at: string
  updated_at: string
}

/** One entry of `GET /emoji/`. */
export interface Emoji {
  name: string
  emoji: string
  label: string
}

export type TypingFrame = Extract<ServerFrame, { type: 'typing' }>
export type RoomJoinedFrame = Extract<ServerFrame, { type: 'room.joined' }>
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
