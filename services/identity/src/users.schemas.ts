import { Type } from 'typebox'
import { Jwks, Me, ProblemDetails, UserListEntry, UserSearchQuery } from '@chat/contracts'

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
  summary:
    'Users whose display name starts with `search`, case-insensitively (`%`, `_` and `\\` are literal); or, with `ids`, those users that are the caller or share a room with them, each with `online` and `last_seen_at`',
  security: [{ bearer: [] }],
  querystring: UserSearchQuery,
  response: { 200: Type.Array(UserListEntry), 400: ProblemDetails, 401: ProblemDetails }
}

export const jwksSchema = {
  operationId: 'getJwks',
  tags: ['identity'],
  summary: 'Public keys that verify access tokens',
  response: { 200: Jwks }
}
