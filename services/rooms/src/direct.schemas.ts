import { DirectRoomBody, ProblemDetails, Room } from '@chat/contracts'

export const openDirectRoomSchema = {
  operationId: 'openDirectRoom',
  tags: ['rooms'],
  security: [{ bearer: [] }],
  summary: 'The one direct room of the caller and another user: 201 when created, 200 when it exists',
  description:
    'The same room whichever of the two asks, also when both ask at once. Its `kind` is `direct`, its `name` the other ' +
    'participant\'s display name; it keeps its two participants (add_user, leaving, renaming and avatars: 409 `direct_room`). ' +
    'An unknown name: 400 `users_not_found`; the caller\'s own: 400 `validation_failed`. Creating it emits `participants.added`.',
  body: DirectRoomBody,
  response: { 200: Room, 201: Room, 400: ProblemDetails, 401: ProblemDetails, 429: ProblemDetails }
}
