import { Type, type Static } from 'typebox'
import { Seq, Timestamp, Uuid } from './common.js'
import { User } from './identity.js'

export const Participant = Type.Object({
  id: Uuid,
  display_name: Type.String(),
  role: Type.Union([Type.Literal('owner'), Type.Literal('member')]),
  joined_at: Timestamp
})
export type Participant = Static<typeof Participant>

export const Room = Type.Object({
  id: Uuid,
  name: Type.String(),
  created_by: User,
  participants: Type.Array(Participant),
  avatar_url: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  last_seq: Seq,
  last_read_seq: Seq,
  unread_count: Type.Integer({ minimum: 0 }),
  unread_mentions: Type.Integer({ minimum: 0, description: 'messages past the caller\'s read position that mention the caller' })
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
