import { frameErrors } from '../errors.js'
import type { FrameHandler } from './frame-session.js'

export const onUnsubscribe: FrameHandler<'unsubscribe'> = (session, frame) => {
  if (session.roomId !== undefined) {
    session.sendError(frame.ref ?? null, frameErrors.notSupported, frame.room_id)
    return
  }
  const subscription = session.subscriptions.get(frame.room_id)
  if (subscription) session.endSubscription(subscription)
}
