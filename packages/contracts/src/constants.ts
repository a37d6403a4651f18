// Values of the contract that browsers need too: this module imports nothing,
// so that `@chat/contracts/constants` never pulls TypeBox into a bundle. The
// package's index re-exports them beside the schemas.

/** Every stored room event type, in api.md's order; the union of `RoomEventFrame`'s `type`s (frames.ts checks it). */
export const roomEventTypes = [
  'message.created',
  'message.updated',
  'message.deleted',
  'reaction.updated',
  'participants.added',
  'participants.removed',
  'participants.updated',
  'room.updated'
] as const

/** WebSocket close codes of api.md. */
export const closeCodes = {
  goingAway: 1001,
  unauthenticated: 4401,
  notAParticipant: 4403,
  noSuchRoom: 4404,
  tooSlow: 4408,
  rateLimited: 4429
} as const
