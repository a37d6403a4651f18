import { frameErrors } from '../errors.js'
import type { ClientFrameOf, FrameHandler, FrameSession } from './frame-session.js'

/** Stored exactly as a POST by the messages service, then acknowledged with the frame's ref. */
export const onMessage: FrameHandler<'message'> = (session, frame) => {
  sendMessage(session, frame).catch((error: unknown) => session.log.error({ err: error }, 'answering a message frame failed'))
}

async function sendMessage(session: FrameSession, frame: ClientFrameOf<'message'>): Promise<void> {
  const ref = frame.ref ?? null
  const roomId = frame.room_id ?? session.roomId
  if (roomId === undefined) {
    session.sendError(ref, frameErrors.roomIdRequired)
    return
  }
  if (session.roomId !== undefined && roomId !== session.roomId) {
    session.sendError(ref, frameErrors.roomMismatch, roomId)
    return
  }
  const user = session.user
  if (!user) return
  session.typing.stop(roomId)
  const outcome = await session.context.messages.send(
    {
      user: { id: user.id, display_name: user.display_name },
      room_id: roomId,
      text: frame.text,
      ...(frame.client_msg_id !== undefined ? { client_msg_id: frame.client_msg_id } : {}),
      ...(frame.reply_to !== undefined ? { reply_to: frame.reply_to } : {}),
      ...(frame.mentions !== undefined ? { mentions: frame.mentions } : {}),
      request_id: session.requestId
    },
    session.log
  )
  if ('message' in outcome) session.sendFrame({ type: 'ack', ref, message: outcome.message })
  else session.sendError(ref, outcome.error, roomId)
}
