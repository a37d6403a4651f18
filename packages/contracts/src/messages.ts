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
  my_reaction: Type.Union([Type.String(), Type.Null()]),
  reply_to: Type.Union([Uuid, Type.Null()], { description: 'the root of the thread this message replies in; null outside a thread' }),
  reply_count: Type.Integer({ minimum: 0, description: 'replies in this message\'s thread (0 unless it is a root), deleted ones included' }),
  last_reply_at: Type.Union([Timestamp, Type.Null()], { description: 'when the latest reply in its thread was sent' }),
  mentions: Type.Array(User, { description: 'participants the message mentions, by display name; never its sender' })
})
export type Message = Static<typeof Message>

/** A thread root's counts as they are after a reply: in the reply's `message.created` (no extra seq). */
export const ThreadRoot = Type.Object({
  id: Uuid,
  reply_count: Type.Integer({ minimum: 1 }),
  last_reply_at: Timestamp
})
export type ThreadRoot = Static<typeof ThreadRoot>

/** Client-given mentions on a send or edit: user ids the server keeps where they are participants. */
export const MentionIds = Type.Array(Uuid, {
  maxItems: 50,
  uniqueItems: true,
  description: 'user ids to mention besides the `@` tokens of the text (names with spaces); non-participants are dropped; at most 50'
})

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
