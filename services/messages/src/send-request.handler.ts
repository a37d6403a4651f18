import { Compile } from 'typebox/compile'
import type { RequestHandler } from '@chat/bus'
import { AppError, errors, isDependencyFailure, problemBody, validationIssues } from '@chat/service-kit'
import { sendMessage, type MessagesContext } from './messages.service.js'
import { SendMessageRequest, type SendMessageReply } from './send-request.schemas.js'

/** The subset of a pino logger the responder uses. */
export interface SendRequestLogger {
  error(object: Record<string, unknown>, message: string): void
}

const checkSendRequest = Compile(SendMessageRequest)
const decoder = new TextDecoder('utf-8', { fatal: true })

function failure(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): SendMessageReply {
  return { status, problem: problemBody(status, code, detail, extra) }
}

/**
 * Answers one `svc.messages.send` request exactly as `POST /messages/:room_id/`
 * would: the same checks, the same stored message, the same errors (as
 * problem details). Never throws: a malformed request is a 400 reply.
 */
export async function answerSendRequest(context: MessagesContext, data: Uint8Array, logger: SendRequestLogger): Promise<SendMessageReply> {
  let request: unknown
  try {
    request = JSON.parse(decoder.decode(data))
  } catch {
    return failure(400, 'invalid_json', 'The request is not valid UTF-8 JSON')
  }
  if (!checkSendRequest.Check(request)) {
    const issues = validationIssues([...checkSendRequest.Errors(request)] as Parameters<typeof validationIssues>[0])
    return failure(400, 'validation_failed', 'The request is invalid', { errors: issues })
  }
  try {
    return await sendMessage(context, {
      roomId: request.room_id,
      senderId: request.user.id,
      text: request.text,
      clientMsgId: request.client_msg_id,
      replyTo: request.reply_to,
      mentions: request.mentions,
      requestId: request.request_id
    })
  } catch (error) {
    if (error instanceof AppError) return failure(error.statusCode, error.code, error.message, error.extra)
    logger.error({ err: error, room_id: request.room_id, request_id: request.request_id }, 'send request failed')
    // The same 503 a POST gets while the database is down: the gateway tells the client to retry.
    if (isDependencyFailure(error)) {
      const unavailable = errors.unavailable()
      return failure(unavailable.statusCode, unavailable.code, unavailable.message)
    }
    return failure(500, 'internal_error', 'Something went wrong on our side; it has been logged')
  }
}

export function createSendRequestHandler(context: MessagesContext, logger: SendRequestLogger): RequestHandler {
  return async (message) => Buffer.from(JSON.stringify(await answerSendRequest(context, message.data, logger)))
}
