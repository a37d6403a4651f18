import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import { limits, toUser } from '@chat/contracts'
import type { Database } from '@chat/db'
import { callerOf, errors, findUser, toJwks, type VerifyingKey } from '@chat/service-kit'
import { searchUsers } from './users.repository.js'
import { jwksSchema, meSchema, searchUsersSchema } from './users.schemas.js'

export interface UsersRoutesOptions {
  db: Kysely<Database>
  publicKeys: readonly VerifyingKey[]
}

export const usersRoutes: FastifyPluginAsyncTypebox<UsersRoutesOptions> = async (app, { db, publicKeys }) => {
  const jwks = toJwks(publicKeys)

  app.get('/users/me', { schema: meSchema, onRequest: app.authenticate }, async (request) => {
    const user = await findUser(db, callerOf(request).id)
    // A valid token for a user that no longer exists.
    if (!user) throw errors.unauthenticated('The account of this token no longer exists')
    return user
  })

  app.get('/users', { schema: searchUsersSchema, onRequest: app.authenticate }, async (request) => {
    const rows = await searchUsers(db, request.query.search ?? '', request.query.limit ?? limits.userSearchDefault)
    return rows.map(toUser)
  })

  app.get('/.well-known/jwks.json', { schema: jwksSchema, config: { rateLimit: false } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    return jwks
  })
}
