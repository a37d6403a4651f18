export { createChatClient, retryAfterSeconds } from './http.js'
export type {
  AvatarFetchResult,
  ChatClient,
  ChatClientOptions,
  FetchLike,
  MessagePage,
  MessagePageQuery,
  ReadPosition,
  RoomPage,
  SendInput
} from './http.js'
export { ChatSocket } from './socket.js'
export { ChatApiError, ChatNetworkError, ChatSocketError } from './errors.js'
export { parseLinkHeader } from './link.js'
export type { LinkValue } from './link.js'
export type {
  AckFrame,
  Avatar,
  ChatSocketEvents,
  ClientFrame,
  ConnectionState,
  ConnectOptions,
  Emoji,
  ErrorFrame,
  MentionFrame,
  Message,
  Participant,
  PongFrame,
  ProblemDetails,
  Reaction,
  ReactionCounts,
  ReconnectOptions,
  ResyncRequiredFrame,
  Room,
  RoomEventFrame,
  RoomEventType,
  RoomJoinedFrame,
  ServerFrame,
  Session,
  SubscribedFrame,
  TypingFrame,
  User,
  ValidationIssue,
  WebSocketConstructor,
  WebSocketLike
} from './types.js'
