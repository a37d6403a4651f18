import type { RoomEventType } from './frames.js'

/** The JetStream stream that keeps the stored room event types. */
export const CHAT_EVENTS_STREAM = 'CHAT_EVENTS'

/** Subjects of CHAT_EVENTS: every stored event type, never typing notices. */
export const chatEventsStreamSubjects = [
  'chat.room.*.message.>',
  'chat.room.*.reaction.>',
  'chat.room.*.participants.>',
  'chat.room.*.room.>'
] as const

/**
 * Builders for every NATS subject the services use.
 *
 * @example
 * subjects.roomEvent(roomId, 'message.created') // chat.room.<roomId>.message.created
 * subjects.roomAll(roomId)                       // chat.room.<roomId>.>
 */
export const subjects = {
  roomEvent: (roomId: string, type: RoomEventType): string => `chat.room.${roomId}.${type}`,
  roomTyping: (roomId: string): string => `chat.room.${roomId}.typing`,
  roomAll: (roomId: string): string => `chat.room.${roomId}.>`,
  /** One event type of every room, for example every `participants.added`. */
  anyRoomEvent: (type: RoomEventType): string => `chat.room.*.${type}`,
  allRooms: (): string => 'chat.room.>',
  messagesSend: (): string => 'svc.messages.send',
  /** Mention notices to one user (core NATS, not stored): the payload is the `mention` frame. */
  userMention: (userId: string): string => `chat.user.${userId}.mention`,
  anyUserMention: (): string => 'chat.user.*.mention',
  /** "You made this room" to one user's devices (core NATS, not stored): the payload is the `room.joined` frame. */
  userJoined: (userId: string): string => `chat.user.${userId}.joined`,
  anyUserJoined: (): string => 'chat.user.*.joined',
  /** Every notice to every user: what the gateways subscribe to. */
  anyUserNotice: (): string => 'chat.user.*.*',
  /**
   * Presence (core NATS, not stored): each gateway publishes which users have
   * a socket open on it, on a change and again every third of its TTL; a
   * user no gateway has named for a TTL is offline. See presence.ts of
   * @chat/service-kit.
   */
  presenceUpdate: (): string => 'chat.presence.update',
  /** "Send your whole list now": a reader that just started asks the gateways (core NATS). */
  presenceSync: (): string => 'chat.presence.sync',
  /** Read receipts of a room (core NATS, never stored, no seq): the payload is the `read` frame. */
  roomRead: (roomId: string): string => `chat.room.${roomId}.read`,
  /**
   * Where a NATS user's replies arrive (its connection's inbox prefix): one
   * prefix per user, so that NATS permissions can let each service read its
   * own replies and nobody else's.
   */
  inboxPrefix: (natsUser: string): string => `_INBOX.${natsUser}`
} as const

/** Queue groups: one member of a group answers each request. */
export const queueGroups = { messages: 'messages' } as const

/**
 * The service that writes each stored room event type, and so the only one
 * NATS lets publish it (deploy/nats/accounts.ts); each writer's relay
 * re-publishes only its own types.
 */
export const roomEventWriters = {
  rooms: ['participants.added', 'participants.removed', 'participants.updated', 'room.updated'],
  messages: ['message.created', 'message.updated', 'message.deleted'],
  reactions: ['reaction.updated']
} as const satisfies Record<string, readonly RoomEventType[]>
export type RoomEventWriter = keyof typeof roomEventWriters
