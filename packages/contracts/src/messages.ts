import { Type, type Static } from 'typebox'
import { Seq, Timestamp, Uuid } from './common.js'
import { User } from './identity.js'

/** Reaction name to count, for example `{"like": 2}`. */
export const ReactionCounts = Type.Record(Type.String(), Type.Integer({ minimum: 1 }))
export type ReactionCounts = Static<typeof ReactionCounts>

export const Message = Type.Object({
  id: Uuid,
  room_id: Uuid,
  seq: Seq,
  sender: User,
  text: Type.String(),
  client_msg_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  edited_at: Type.Union([Timestamp, Type.Null()]),
  deleted: Type.Boolean(),
  reactions: ReactionCounts,
  my_reaction: Type.Union([Type.String(), Type.Null()])
})
export type Message = Static<typeof Message>
