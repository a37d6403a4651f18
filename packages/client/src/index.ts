export { createChatClient, retryAfterSeconds } from './http.js'
export type { ChatClient, ChatClientOptions, FetchLike, SendInput } from './http.js'
export type { AvatarFetchResult, MessagePage, MessagePageQuery, ReadPosition, RoomPage, SearchPage, SearchQuery } from './pages.js'
export { ChatSocket } from './socket.js'
export { ChatApiError, ChatNetworkError, ChatSocketError } from './errors.js'
export { parseLinkHeader } from './link.js'
export type { LinkValue } from './link.js'
export type {
  AckFrame,
  Avatar,
  Block,
  ChatSocketEvents,
  ClientFrame,
  ConnectionState,
  ConnectOptions,
  Emoji,
  ErrorFrame,
  MentionFrame,
  PresenceFrame,
  ReadFrame,
  Me,
  Message,
  Participant,
  ParticipantRole,
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
  RoomKind,
  RoomsInvite,
  SearchHighlight,
  SearchHit,
  SearchHitRoom,
  ServerFrame,
  Session,
  SubscribedFrame,
  TypingFrame,
  User,
  UserPresence,
  ValidationIssue,
  WebSocketConstructor,
  WebSocketLike
} from './types.js'
