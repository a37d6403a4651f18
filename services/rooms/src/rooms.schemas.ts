import { Type } from 'typebox'
import { DisplayName, ProblemDetails, Room, Seq, Uuid, limits, storableTextPattern } from '@chat/contracts'

const tags = ['rooms']
const security = [{ bearer: [] }]
const RoomName = Type.String({ minLength: 1, maxLength: limits.roomNameChars, pattern: storableTextPattern, description: 'not blank; stored as sent' })
const DisplayNames = Type.Array(DisplayName, { maxItems: limits.displayNamesPerRequest })
export const RoomParams = Type.Object({ room_id: Uuid })
const errors = { 400: ProblemDetails, 401: ProblemDetails, 403: ProblemDetails, 404: ProblemDetails, 429: ProblemDetails }

export const listRoomsSchema = {
  operationId: 'listRooms',
  tags,
  security,
  summary: "The caller's rooms, most recent activity first",
  description: 'At most `limit` rooms (1..200, default 100). When there are more, the `Link` header carries `rel="next"` with the `before` cursor of the next page.',
  querystring: Type.Object({
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 100 })),
    before: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'opaque cursor from a Link header' }))
  }),
  response: { 200: Type.Array(Room), 400: ProblemDetails, 401: ProblemDetails, 429: ProblemDetails }
}

export const createRoomSchema = {
  operationId: 'createRoom',
  tags,
  security,
  summary: 'Create a room; the creator joins as owner. Any unknown name (or one that did not consent: blocked the caller, or rooms_invite nobody): 400 users_not_found and nothing is created',
  body: Type.Object(
    { name: RoomName, participants_display_names: Type.Optional(DisplayNames) },
    { additionalProperties: false }
  ),
  response: { 201: Room, ...errors }
}

export const getRoomSchema = {
  operationId: 'getRoom',
  tags,
  security,
  summary: 'One room (participants only)',
  params: RoomParams,
  response: { 200: Room, ...errors }
}

export const renameRoomSchema = {
  operationId: 'renameRoom',
  tags,
  security,
  summary: 'Change a group room: `name` (owner and admins), `members_can_add` (owner); emits room.updated',
  description: 'A member renaming: 403 `admin_required`. Anyone but the owner setting `members_can_add`: 403 `owner_required`. A direct room: 409 `direct_room`.',
  params: RoomParams,
  body: Type.Object(
    { name: Type.Optional(RoomName), members_can_add: Type.Optional(Type.Boolean({ description: 'false: only the owner and admins add people' })) },
    { additionalProperties: false, minProperties: 1 }
  ),
  response: { 200: Room, 409: ProblemDetails, ...errors }
}

export const addUsersSchema = {
  operationId: 'addUsers',
  tags,
  security,
  summary: 'Add participants (any participant, or owner and admins when members_can_add is false: 403 admin_required); existing ones are ignored; any unknown name (or one that did not consent): 400 users_not_found and nobody is added',
  params: RoomParams,
  body: Type.Object({ user_display_names: Type.Array(DisplayName, { minItems: 1, maxItems: limits.displayNamesPerRequest }) }, { additionalProperties: false }),
  response: { 200: Room, ...errors }
}

export const leaveRoomSchema = {
  operationId: 'leaveRoom',
  tags,
  security,
  summary: 'The caller leaves the room; it stays for the others; a leaving owner hands it to the longest-standing admin, else member (participants.updated)',
  params: RoomParams,
  response: { 204: Type.Null(), ...errors }
}

export const markReadSchema = {
  operationId: 'markRead',
  tags,
  security,
  summary: 'The caller has read up to seq; never moves backwards; a seq past last_seq is clamped',
  params: RoomParams,
  body: Type.Object({ seq: Seq }, { additionalProperties: false }),
  response: { 200: Type.Object({ last_read_seq: Seq, unread_count: Type.Integer({ minimum: 0 }), unread_mentions: Type.Integer({ minimum: 0 }) }), ...errors }
}
