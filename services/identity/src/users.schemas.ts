import { Type } from 'typebox'
import { Jwks, Me, ProblemDetails, User, UserSearchQuery } from '@chat/contracts'

export const meSchema = {
  operationId: 'getMe',
  tags: ['identity'],
  summary: 'The caller, with their own settings (`rooms_invite`)',
  security: [{ bearer: [] }],
  response: { 200: Me, 401: ProblemDetails }
}

export const searchUsersSchema = {
  operationId: 'searchUsers',
  tags: ['identity'],
  summary: 'Users whose display name starts with `search`, case-insensitively; `%`, `_` and `\\` are literal',
  security: [{ bearer: [] }],
  querystring: UserSearchQuery,
  response: { 200: Type.Array(User), 400: ProblemDetails, 401: ProblemDetails }
}

export const jwksSchema = {
  operationId: 'getJwks',
  tags: ['identity'],
  summary: 'Public keys that verify access tokens',
  response: { 200: Jwks }
}
