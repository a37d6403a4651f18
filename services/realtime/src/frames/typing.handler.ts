import { frameErrors } from '../errors.js'
import type { FrameHandler } from './frame-session.js'

/** Only a subscription whose participation check passed may type into a room. */
export const onTyping: FrameHandler<'typing'> = (session, frame) => {
  const roomId = frame.room_id ?? session.roomId
  if (roomId === undefined || !session.subscriptions.get(roomId)?.admitted) {
    session.sendError(null, frameErrors.notSubscribed, roomId)
    return
  }
  if (frame.active === false) session.typing.stop(roomId)
  else session.typing.typing(roomId)
}
