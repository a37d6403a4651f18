import type { FrameHandler } from './frame-session.js'

export const onPing: FrameHandler<'ping'> = (session, frame) => {
  session.sendFrame({ type: 'pong', ref: frame.ref ?? null })
}
