import { Type, type Static } from 'typebox'
import { MentionIds, Uuid } from '@chat/contracts'
import { ClientMsgId, MessageText, ReplyTo } from './messages.schemas.js'

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
    reply_to: Type.Optional(ReplyTo),
    mentions: Type.Optional(MentionIds),
    request_id: Type.Optional(Type.String({ maxLength: 128, description: 'travels into the event headers and the logs' }))
  },
  { additionalProperties: false }
)
export type SendMessageRequest = Static<typeof SendMessageRequest>

// The reply crosses to the realtime gateway: its schema is the contract's.
export { SendMessageFailure, SendMessageReply, SendMessageSuccess } from '@chat/contracts'
