import { Type } from 'typebox'
import { Avatar, ProblemDetails } from '@chat/contracts'
import { RoomParams } from './rooms.schemas.js'

const tags = ['rooms']
const security = [{ bearer: [] }]
const errors = { 401: ProblemDetails, 403: ProblemDetails, 404: ProblemDetails, 429: ProblemDetails }

export const setAvatarSchema = {
  operationId: 'setRoomAvatar',
  tags,
  security,
  summary: 'Set the room avatar from multipart file field `avatar` (JPEG, PNG, WebP, GIF first frame; at most 5 MiB); stored as WebP at most 512x512, metadata stripped',
  consumes: ['multipart/form-data'],
  params: RoomParams,
  response: { 200: Avatar, 400: ProblemDetails, 413: ProblemDetails, 415: ProblemDetails, 422: ProblemDetails, ...errors }
}

export const getAvatarSchema = {
  operationId: 'getRoomAvatar',
  tags,
  security,
  summary: 'The avatar bytes (image/webp) with ETag; If-None-Match gives 304',
  params: RoomParams,
  querystring: Type.Object({ v: Type.Optional(Type.String({ maxLength: 64, description: 'cache buster from avatar_url; ignored' })) }),
  response: {
    200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'the image bytes (image/webp)' }),
    304: Type.Null(),
    400: ProblemDetails,
    ...errors
  }
}

export const deleteAvatarSchema = {
  operationId: 'deleteRoomAvatar',
  tags,
  security,
  summary: 'Remove the room avatar; none set: 404 avatar_not_set',
  params: RoomParams,
  response: { 204: Type.Null(), 400: ProblemDetails, ...errors }
}
