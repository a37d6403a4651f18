import { Type, type Static } from 'typebox'
import { Message, ProblemDetails, Uuid } from '@chat/contracts'
import { ClientMsgId, MessageText } from './messages.schemas.js'

/**
 * Payload of a `svc.messages.send` request (queue group `messages`): a message
 * that arrived on a socket. The caller (the realtime gateway) authenticated
 * `user`; the messages service trusts it.
 */
export const SendMessageRequest = Type.Object(
  {
    user: Type.Object({ id: Uuid, display_name: Type.String() }),
    room_id: Uuid,
    text: MessageText,
    client_msg_id: Type.Optional(ClientMsgId),
    request_id: Type.Optional(Type.String({ maxLength: 128, description: 'travels into the event headers and the logs' }))
  },
  { additionalProperties: false }
)
export type SendMessageRequest = Static<typeof SendMessageRequest>

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

/** Reply of a `svc.messages.send` request: the same answers and errors as the HTTP send. */
export const SendMessageReply = Type.Union([SendMessageSuccess, SendMessageFailure])
export type SendMessageReply = Static<typeof SendMessageReply>
