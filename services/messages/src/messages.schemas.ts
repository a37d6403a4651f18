import { Type, type Static } from 'typebox'
import { MentionIds, Message, ProblemDetails, Seq, Uuid, limits, storableTextPattern } from '@chat/contracts'

const tags = ['messages']
const security = [{ bearer: [] }]

export const ClientMsgId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: storableTextPattern,
  description: 'the client\'s own id for this send: a repeat by the same sender in the same room returns the stored message with 200'
})

export const MessageText = Type.String({
  pattern: storableTextPattern,
  description: `1..${limits.messageTextChars} characters (code points) after trimming; stored and returned exactly as sent`
})

export const RoomParams = Type.Object({ room_id: Uuid }, { additionalProperties: false })
export type RoomParams = Static<typeof RoomParams>

export const MessageParams = Type.Object({ room_id: Uuid, message_id: Uuid }, { additionalProperties: false })
export type MessageParams = Static<typeof MessageParams>

export const ReplyTo = Type.String({
  format: 'uuid',
  description: 'a message of this room (404 `reply_to_not_found` otherwise): this message replies in its thread (a reply to a reply joins the root\'s thread)'
})

export const SendMessageBody = Type.Object(
  { text: MessageText, client_msg_id: Type.Optional(ClientMsgId), reply_to: Type.Optional(ReplyTo), mentions: Type.Optional(MentionIds) },
  { additionalProperties: false }
)
export type SendMessageBody = Static<typeof SendMessageBody>

export const EditMessageBody = Type.Object({ text: MessageText, mentions: Type.Optional(MentionIds) }, { additionalProperties: false })
export type EditMessageBody = Static<typeof EditMessageBody>

export const ListMessagesQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: limits.pageSizeMax, default: limits.pageSizeDefault, description: 'page size; outside 1..200 is a 400' })
    ),
    before_seq: Type.Optional(Type.Integer({ ...Seq, description: 'the latest `limit` messages with a seq below this (page backwards)' })),
    after_seq: Type.Optional(Type.Integer({ ...Seq, description: 'the first `limit` messages with a seq above this (page forwards)' }))
  },
  { additionalProperties: false }
)
export type ListMessagesQuery = Static<typeof ListMessagesQuery>

const roomErrors = { 400: ProblemDetails, 401: ProblemDetails, 403: ProblemDetails, 404: ProblemDetails, 429: ProblemDetails }

export const listMessagesSchema = {
  operationId: 'listMessages',
  tags,
  summary: 'Messages of a room in ascending seq: the latest `limit`, or a page before/after a seq',
  description:
    'Participants only. `before_seq` and `after_seq` exclude each other (400). The `Link` header (RFC 8288) carries ' +
    '`rel="prev"` (older messages exist) and `rel="next"` (newer messages exist) as relative URLs with the same `limit`. ' +
    'A deleted message stays in place as a tombstone: `deleted: true`, `text: ""`, no reactions.',
  security,
  params: RoomParams,
  querystring: ListMessagesQuery,
  response: { 200: Type.Array(Message), ...roomErrors }
}

export const listThreadSchema = {
  operationId: 'listThread',
  tags,
  summary: 'Replies of a thread in ascending seq, paged as the room\'s messages are',
  description:
    'Participants only. `message_id` is the thread\'s root (the id of a reply lists the thread it is in); a message of another room ' +
    'is 404 `message_not_found`. `limit`, `before_seq`, `after_seq` and the `Link` header work as for the room. The root stays ' +
    'listable when deleted; deleted replies stay in place as tombstones.',
  security,
  params: MessageParams,
  querystring: ListMessagesQuery,
  response: { 200: Type.Array(Message), ...roomErrors }
}

export const sendMessageSchema = {
  operationId: 'sendMessage',
  tags,
  summary: 'Send a message to a room; a repeated client_msg_id returns the stored message with 200',
  description:
    'Participants only. The message takes the room\'s next seq and is published as `message.created` after commit. ' +
    'A repeat of the same `client_msg_id` by the same sender in the same room publishes nothing and takes no seq. ' +
    '`reply_to` makes it a reply in that message\'s thread (its `message.created` carries the root\'s new counts as `thread_root`). ' +
    '`@name` and `@"name with spaces"` tokens (case-insensitive, longest match) and the `mentions` ids name the participants in `mentions`; ' +
    'each mentioned user\'s `/ws/` sockets get a `mention` frame.',
  security,
  params: RoomParams,
  body: SendMessageBody,
  response: { 200: Message, 201: Message, ...roomErrors, 413: ProblemDetails, 415: ProblemDetails }
}

export const editMessageSchema = {
  operationId: 'editMessage',
  tags,
  summary: 'Change the text of one\'s own message; sets edited_at',
  description:
    'The sender only (403 `not_sender`). A message id of another room is 404 `message_not_found`. ' +
    'A deleted message cannot be edited: 409 `message_deleted`. Publishes `message.updated` with the room\'s next seq. ' +
    'Mentions are read again from the new text and this body\'s `mentions`; users mentioned now and not before get a `mention` frame.',
  security,
  params: MessageParams,
  body: EditMessageBody,
  response: { 200: Message, ...roomErrors, 409: ProblemDetails, 413: ProblemDetails, 415: ProblemDetails }
}

export const deleteMessageSchema = {
  operationId: 'deleteMessage',
  tags,
  summary: 'Delete one\'s own message; it stays in the history as a tombstone',
  description:
    'The sender only (403 `not_sender`). A message id of another room is 404 `message_not_found`. ' +
    'Deleting a deleted message is 409 `message_deleted`. Publishes `message.deleted` with the room\'s next seq.',
  security,
  params: MessageParams,
  response: { 204: Type.Null(), ...roomErrors, 409: ProblemDetails }
}

