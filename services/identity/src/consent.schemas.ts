import { Type } from 'typebox'
import { Block, Me, ProblemDetails, UpdateMeBody, Uuid } from '@chat/contracts'

const tags = ['identity']
const security = [{ bearer: [] }]
const BlockParams = Type.Object({ user_id: Uuid })

export const updateMeSchema = {
  operationId: 'updateMe',
  tags,
  security,
  summary: "The caller's settings: `rooms_invite` (`nobody`: no one else puts them into a group room; direct rooms stay open)",
  body: UpdateMeBody,
  response: { 200: Me, 400: ProblemDetails, 401: ProblemDetails, 429: ProblemDetails }
}

export const listBlocksSchema = {
  operationId: 'listBlocks',
  tags,
  security,
  summary: 'The users the caller blocked, the latest first',
  response: { 200: Type.Array(Block), 401: ProblemDetails, 429: ProblemDetails }
}

export const blockUserSchema = {
  operationId: 'blockUser',
  tags,
  security,
  summary: 'Block a user (idempotent): they cannot add the caller to a room, open a direct room with them or mention them',
  description: 'The caller themselves: 400 `validation_failed`. No such user: 404 `user_not_found`. Past 1000 blocks: 409 `too_many_blocks`.',
  params: BlockParams,
  response: { 200: Block, 400: ProblemDetails, 401: ProblemDetails, 404: ProblemDetails, 409: ProblemDetails, 429: ProblemDetails }
}

export const unblockUserSchema = {
  operationId: 'unblockUser',
  tags,
  security,
  summary: 'Lift a block (204 also when there was none)',
  params: BlockParams,
  response: { 204: Type.Null(), 400: ProblemDetails, 401: ProblemDetails, 429: ProblemDetails }
}
