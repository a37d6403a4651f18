import { Type, type Static } from 'typebox'
import { Seq, Uuid } from './common.js'
import type { roomEventTypes } from './constants.js'
import { User } from './identity.js'
import { MentionIds, Message, ReactionCounts, ThreadRoot } from './messages.js'
import { Participant, Room } from './rooms.js'

// Server-to-client frames. The event frames (those with a `seq`) are also the
// exact NATS payloads: the gateway forwards their bytes without parsing them.

export const MessageCreatedFrame = Type.Object({
  type: Type.Literal('message.created'),
  room_id: Uuid,
  seq: Seq,
  message: Message,
  thread_root: Type.Optional(ThreadRoot)
})
export const MessageUpdatedFrame = Type.Object({
  type: Type.Literal('message.updated'), room_id: Uuid, seq: Seq, message: Message
})
export const MessageDeletedFrame = Type.Object({
  type: Type.Literal('message.deleted'), room_id: Uuid, seq: Seq, message_id: Uuid
})
export const ReactionUpdatedFrame = Type.Object({
  type: Type.Literal('reaction.updated'),
  room_id: Uuid,
  seq: Seq,
  message_id: Uuid,
  user: User,
  reaction: Type.Union([Type.String(), Type.Null()]),
  reactions: ReactionCounts
})
export const ParticipantsAddedFrame = Type.Object({
  type: Type.Literal('participants.added'), room_id: Uuid, seq: Seq, users: Type.Array(User)
})
export const ParticipantsRemovedFrame = Type.Object({
  type: Type.Literal('participants.removed'), room_id: Uuid, seq: Seq, users: Type.Array(User)
})
/** Participants whose role changed (made admin or member, or handed ownership), as they are now. */
export const ParticipantsUpdatedFrame = Type.Object({
  type: Type.Literal('participants.updated'), room_id: Uuid, seq: Seq, participants: Type.Array(Participant)
})
export const RoomUpdatedFrame = Type.Object({
  type: Type.Literal('room.updated'), room_id: Uuid, seq: Seq, room: Room
})

/** Every stored room event, as sent to sockets and published on the bus. */
export const RoomEventFrame = Type.Union([
  MessageCreatedFrame,
  MessageUpdatedFrame,
  MessageDeletedFrame,
  ReactionUpdatedFrame,
  ParticipantsAddedFrame,
  ParticipantsRemovedFrame,
  ParticipantsUpdatedFrame,
  RoomUpdatedFrame
])
export type RoomEventFrame = Static<typeof RoomEventFrame>
export type RoomEventType = RoomEventFrame['type']

// roomEventTypes (constants.ts, free of TypeBox for browsers) lists exactly
// the frames' types: a type added on one side only fails to compile here.
type SameUnion<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const _roomEventTypesMatchFrames: SameUnion<(typeof roomEventTypes)[number], RoomEventType> = true

/** Ephemeral: never stored, carries no `seq` key at all. */
export const TypingFrame = Type.Object({
  type: Type.Literal('typing'),
  room_id: Uuid,
  user: User,
  active: Type.Boolean({ description: 'true: the user is typing (show it for at most 5 s unless repeated); false: stopped' })
})
/**
 * To a user's `/ws/` sockets: they were just added to a room (a
 * `participants.added` event named them). Not a room event: no seq. Subscribe
 * to the room to follow it.
 */
export const RoomJoinedFrame = Type.Object({ type: Type.Literal('room.joined'), room_id: Uuid })
/**
 * To a mentioned user's `/ws/` sockets, whether or not they subscribed to the
 * room. Not a room event: no seq; the message also arrives (or arrived) as
 * the room's `message.created` or `message.updated`.
 */
export const MentionFrame = Type.Object({ type: Type.Literal('mention'), room_id: Uuid, message: Message })
/**
 * To a user's `/ws/` sockets when someone who shares a room with them comes
 * online (their first socket on any gateway) or goes offline (their last one
 * closed more than 10 s ago, or their gateway stopped answering). Not a room
 * event: no seq.
 */
export const PresenceFrame = Type.Object({ type: Type.Literal('presence'), user: User, online: Type.Boolean() })
/**
 * To the sockets subscribed to a room when a participant moved their read
 * position forward (`PUT /chatrooms/:room_id/read/`). Ephemeral, like typing:
 * never stored, no seq of its own; `seq` is the participant's new `last_read_seq`.
 */
export const ReadFrame = Type.Object({ type: Type.Literal('read'), room_id: Uuid, user: User, last_read_seq: Seq })
export const SubscribedFrame = Type.Object({ type: Type.Literal('subscribed'), room_id: Uuid, last_seq: Seq })
export const ResyncRequiredFrame = Type.Object({ type: Type.Literal('resync_required'), room_id: Uuid })
export const AckFrame = Type.Object({
  type: Type.Literal('ack'), ref: Type.Union([Type.String(), Type.Null()]), message: Message
})
export const ErrorFrame = Type.Object({
  type: Type.Literal('error'),
  ref: Type.Union([Type.String(), Type.Null()]),
  code: Type.String(),
  detail: Type.String(),
  room_id: Type.Optional(Uuid)
})
export const PongFrame = Type.Object({ type: Type.Literal('pong'), ref: Type.Union([Type.String(), Type.Null()]) })

export const ServerFrame = Type.Union([
  ...RoomEventFrame.anyOf,
  TypingFrame,
  RoomJoinedFrame,
  MentionFrame,
  PresenceFrame,
  ReadFrame,
  SubscribedFrame,
  ResyncRequiredFrame,
  AckFrame,
  ErrorFrame,
  PongFrame
])
export type ServerFrame = Static<typeof ServerFrame>

// Client-to-server frames.

const Ref = Type.String({ maxLength: 128 })

export const ClientMessageFrame = Type.Object({
  type: Type.Literal('message'),
  text: Type.String(),
  client_msg_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  ref: Type.Optional(Ref),
  room_id: Type.Optional(Uuid),
  reply_to: Type.Optional(Uuid),
  mentions: Type.Optional(MentionIds)
})
export const ClientTypingFrame = Type.Object({
  type: Type.Literal('typing'),
  room_id: Type.Optional(Uuid),
  active: Type.Optional(Type.Boolean({ description: 'false: the user stopped typing; default true' }))
})
export const ClientSubscribeFrame = Type.Object({
  type: Type.Literal('subscribe'), room_id: Uuid, after_seq: Type.Optional(Seq), ref: Type.Optional(Ref)
})
export const ClientUnsubscribeFrame = Type.Object({ type: Type.Literal('unsubscribe'), room_id: Uuid, ref: Type.Optional(Ref) })
export const ClientPingFrame = Type.Object({ type: Type.Literal('ping'), ref: Type.Optional(Ref) })

export const ClientFrame = Type.Union([
  ClientMessageFrame,
  ClientTypingFrame,
  ClientSubscribeFrame,
  ClientUnsubscribeFrame,
  ClientPingFrame
])
export type ClientFrame = Static<typeof ClientFrame>
