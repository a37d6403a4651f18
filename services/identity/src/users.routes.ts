import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { limits } from '@chat/contracts'
import { callerOf, toJwks, type VerifyingKey } from '@chat/service-kit'
import { jwksSchema, meSchema, searchUsersSchema } from './users.schemas.js'
import { getMe } from './consent.service.js'
import { identityErrors } from './errors.js'
import { searchUsers, usersWithPresence, type UsersContext } from './users.service.js'

export interface UsersRoutesOptions extends UsersContext {
  publicKeys: readonly VerifyingKey[]
}

export const usersRoutes: FastifyPluginAsyncTypebox<UsersRoutesOptions> = async (app, { publicKeys, ...context }) => {
  const jwks = toJwks(publicKeys)

  app.get('/users/me', { schema: meSchema, onRequest: app.authenticate }, async (request) => {
    return getMe(context, callerOf(request).id)
  })

  app.get('/users', { schema: searchUsersSchema, onRequest: app.authenticate }, async (request) => {
    if (request.query.ids !== undefined) {
      if (request.query.search !== undefined) throw identityErrors.searchAndIds()
      return usersWithPresence(context, { callerId: callerOf(request).id, ids: request.query.ids.split(',') })
    }
    return searchUsers(context, { search: request.query.search ?? '', limit: request.query.limit ?? limits.userSearchDefault })
  })

  app.get('/.well-known/jwks.json', { schema: jwksSchema, config: { rateLimit: false } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    return jwks
  })
}
