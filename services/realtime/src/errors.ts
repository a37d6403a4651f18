import { closeCodes } from '@chat/contracts'

/** A close the client can read: its code (api.md, and README "Realtime" for the 10xx ones) and a reason for people. */
export interface SocketClose {
  readonly code: number
  readonly reason: string
}

/** An `error` frame's code and detail; the socket stays open. */
export interface FrameError {
  readonly code: string
  readonly detail: string
}

const close = (code: number, reason: string): SocketClose => ({ code, reason })

/** Every close code the gateway sends. 1009 (a frame over the size limit) is sent by `ws` itself. */
export const realtimeCloseCodes = {
  ...closeCodes,
  policyViolation: 1008,
  frameTooLarge: 1009,
  internalError: 1011,
  tryAgainLater: 1013
} as const

/** Every way the gateway closes a socket. */
export const socketCloses = {
  goingAway: close(closeCodes.goingAway, 'server going away'),
  badAfterSeq: close(realtimeCloseCodes.policyViolation, 'after_seq must be a non-negative integer'),
  tooManyEarlyFrames: close(realtimeCloseCodes.policyViolation, 'too many frames before authentication'),
  /** The room's stream broke for this socket (a gap the store could not fill): reconnect and resume. */
  resumeRequired: close(realtimeCloseCodes.internalError, 'resume required'),
  /** The store or the bus failed: reconnect with backoff. */
  unavailable: close(realtimeCloseCodes.internalError, 'try again later'),
  keysUnavailable: close(realtimeCloseCodes.tryAgainLater, 'try again later'),
  unauthenticated: (message: string) => close(closeCodes.unauthenticated, message),
  unknownUser: close(closeCodes.unauthenticated, 'unknown user'),
  tokenExpired: close(closeCodes.unauthenticated, 'token expired'),
  notAParticipant: close(closeCodes.notAParticipant, 'not a participant'),
  removed: close(closeCodes.notAParticipant, 'removed from the room'),
  noSuchRoom: close(closeCodes.noSuchRoom, 'no such room'),
  tooSlow: close(closeCodes.tooSlow, 'too slow: resume with after_seq'),
  rateLimited: close(closeCodes.rateLimited, 'too many frames')
} as const

/** Every `error` frame the gateway sends of its own (a refused send also passes on the messages service's problem). */
export const frameErrors = {
  invalidFrame: (detail: string): FrameError => ({ code: 'invalid_frame', detail }),
  binaryFrame: { code: 'invalid_frame', detail: 'frames are JSON text' },
  notJson: { code: 'invalid_frame', detail: 'not valid JSON' },
  notSupported: { code: 'not_supported', detail: 'a room socket watches its own room only; use /ws/ for subscribe and unsubscribe' },
  tooManyRooms: (max: number): FrameError => ({ code: 'too_many_rooms', detail: `a socket watches at most ${max} rooms` }),
  roomNotFound: { code: 'room_not_found', detail: 'no such room' },
  notAMember: { code: 'not_a_member', detail: 'you do not participate in this room' },
  removed: { code: 'not_a_member', detail: 'you no longer participate in this room' },
  roomIdRequired: { code: 'room_id_required', detail: 'a message on /ws/ names its room_id' },
  roomMismatch: { code: 'room_mismatch', detail: 'a room socket sends to its own room only' },
  notSubscribed: { code: 'not_subscribed', detail: 'typing notices go to a subscribed room' },
  messagesUnavailable: { code: 'unavailable', detail: 'the messages service is unavailable; retry with the same client_msg_id' },
  sendUncertain: { code: 'unavailable', detail: 'the message may not have been stored; retry with the same client_msg_id' }
} as const satisfies Record<string, FrameError | ((...args: never[]) => FrameError)>
