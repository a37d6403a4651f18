import { Compile } from 'typebox/compile'
import { BusError, NoRespondersError, type EventBus } from '@chat/bus'
import { SendMessageReply, type Message } from '@chat/contracts'
import { frameErrors, type FrameError } from './errors.js'

/** A message that arrived on a socket, for the messages service (its `SendMessageRequest`). */
export interface SendRequest {
  user: { id: string; display_name: string }
  room_id: string
  text: string
  client_msg_id?: string
  reply_to?: string
  mentions?: string[]
  request_id: string
}

/** The stored message, or the error frame to answer with. */
export type SendOutcome = { readonly message: Message } | { readonly error: FrameError }

export interface SendLogger {
  error(object: Record<string, unknown>, message: string): void
}

export interface MessagesClient {
  send(request: SendRequest, log: SendLogger): Promise<SendOutcome>
}

const replyCheck = Compile(SendMessageReply)

/**
 * Sends socket messages to the messages service over request-reply
 * (`svc.messages.send`, queue group `messages`). The reply is checked against
 * the contract: a reply that is not one is treated like a lost one, since the
 * message may have been stored (a retry with the same client_msg_id is safe).
 */
export function createMessagesClient(bus: EventBus, options: { subject: string; timeoutMs: number }): MessagesClient {
  return {
    async send(request, log) {
      let reply: unknown
      try {
        const response = await bus.request(options.subject, Buffer.from(JSON.stringify(request)), { timeoutMs: options.timeoutMs })
        reply = JSON.parse(Buffer.from(response.data).toString('utf8'))
      } catch (error) {
        if (!(error instanceof BusError)) log.error({ err: error, roomId: request.room_id }, 'message request failed')
        return { error: error instanceof NoRespondersError ? frameErrors.messagesUnavailable : frameErrors.sendUncertain }
      }
      if (!replyCheck.Check(reply)) {
        const [first] = replyCheck.Errors(reply)
        log.error({ roomId: request.room_id, issue: first ? `${first.instancePath || '/'} ${first.message}` : undefined }, 'the messages service sent a malformed send reply')
        return { error: frameErrors.sendUncertain }
      }
      if ('message' in reply) return { message: reply.message }
      return { error: { code: reply.problem.code, detail: reply.problem.detail } }
    }
  }
}
