import { Type } from 'typebox'
import { ParticipantRoleBody, ProblemDetails, Room, Uuid } from '@chat/contracts'

const tags = ['rooms']
const security = [{ bearer: [] }]
const ParticipantParams = Type.Object({ room_id: Uuid, user_id: Uuid })
const errors = { 400: ProblemDetails, 401: ProblemDetails, 403: ProblemDetails, 404: ProblemDetails, 409: ProblemDetails, 429: ProblemDetails }

export const setParticipantRoleSchema = {
  operationId: 'setParticipantRole',
  tags,
  security,
  summary: "The owner makes a participant admin or member; emits participants.updated when the role changes",
  description:
    'Not the owner: 403 `owner_required`. Not a participant: 404 `participant_not_found`. The owner themselves: 409 `owner_role`. ' +
    'A direct room: 409 `direct_room`.',
  params: ParticipantParams,
  body: ParticipantRoleBody,
  response: { 200: Room, ...errors }
}

export const removeParticipantSchema = {
  operationId: 'removeParticipant',
  tags,
  security,
  summary: 'The owner removes anyone, an admin removes members; emits participants.removed (the caller\'s own id: leaving)',
  description:
    'A member: 403 `admin_required`. An admin removing the owner or another admin: 403 `outranked`. ' +
    'Not a participant: 404 `participant_not_found`. A direct room: 409 `direct_room`.',
  params: ParticipantParams,
  response: { 204: Type.Null(), ...errors }
}
