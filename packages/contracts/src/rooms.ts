import { Type, type Static } from 'typebox'
import { Seq, Timestamp, Uuid } from './common.js'
import { DisplayName, User } from './identity.js'

/** A group room (created with a name, open to add_user) or the one direct room of two users. */
export const RoomKind = Type.Union([Type.Literal('group'), Type.Literal('direct')])
export type RoomKind = Static<typeof RoomKind>

/**
 * A group room has one owner (its creator, or who it was handed to), who
 * makes participants admins and back; owners and admins remove participants,
 * rename the room and set its avatar. A direct room's two are members.
 */
export const ParticipantRole = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')])
export type ParticipantRole = Static<typeof ParticipantRole>

export const Participant = Type.Object({
  id: Uuid,
  display_name: Type.String(),
  role: ParticipantRole,
  joined_at: Timestamp,
  online: Type.Optional(Type.Boolean({ description: 'in room responses (not in event frames): a socket of theirs is open on some gateway' })),
  last_seen_at: Type.Optional(
    Type.Union([Type.Null(), Timestamp], { description: 'in room responses: now while online, else when their last socket closed; null when never seen since presence began' })
  ),
  last_read_seq: Type.Optional(Type.Integer({ minimum: 0, description: 'in room responses: the participant\'s read position, for "seen by"' }))
})
export type Participant = Static<typeof Participant>

export const Room = Type.Object({
  id: Uuid,
  kind: RoomKind,
  name: Type.String({ description: "a direct room's name is the other participant's display name" }),
  created_by: User,
  participants: Type.Array(Participant),
  avatar_url: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  last_seq: Seq,
  last_read_seq: Seq,
  unread_count: Type.Integer({ minimum: 0 }),
  unread_mentions: Type.Integer({ minimum: 0, description: 'messages past the caller\'s read position that mention the caller' }),
  members_can_add: Type.Boolean({ description: 'false: only the owner and admins add people (the owner sets it); always true in a direct room' })
})
export type Room = Static<typeof Room>

export const Avatar = Type.Object({
  room_id: Uuid,
  avatar_url: Type.String(),
  content_type: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  size: Type.Integer(),
  etag: Type.String(),
  updated_at: Timestamp
})
export type Avatar = Static<typeof Avatar>

/** `POST /direct/`: the caller's direct room with the user of that display name. */
export const DirectRoomBody = Type.Object({ display_name: DisplayName }, { additionalProperties: false })
export type DirectRoomBody = Static<typeof DirectRoomBody>

/** `PATCH /chatrooms/:room_id/participants/:user_id/`: the owner makes a participant admin or member. */
export const ParticipantRoleBody = Type.Object(
  { role: Type.Union([Type.Literal('admin'), Type.Literal('member')]) },
  { additionalProperties: false }
)
export type ParticipantRoleBody = Static<typeof ParticipantRoleBody>
