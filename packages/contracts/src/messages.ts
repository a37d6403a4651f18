import { Type, type Static } from 'typebox'
import { ProblemDetails, Seq, Timestamp, Uuid } from './common.js'
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

// Reply of a `svc.messages.send` request (the messages service answers the
// realtime gateway): the same answers and errors as `POST /messages/:room_id/`.

/** A stored message: 201 new, 200 a repeat of its `client_msg_id`. */
export const SendMessageSuccess = Type.Object({
  status: Type.Union([Type.Literal(201), Type.Literal(200)]),
  message: Message
})
export type SendMessageSuccess = Static<typeof SendMessageSuccess>

/** What `POST /messages/:room_id/` would have answered with problem details. */
export const SendMessageFailure = Type.Object({
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  problem: ProblemDetails
})
export type SendMessageFailure = Static<typeof SendMessageFailure>

export const SendMessageReply = Type.Union([SendMessageSuccess, SendMessageFailure])
export type SendMessageReply = Static<typeof SendMessageReply>
