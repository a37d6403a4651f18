import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import type { Database } from '@chat/db'
import type { LimitStore, PresenceReader, TokenSigner, VerifyingKey } from '@chat/service-kit'
import { authRoutes } from './auth.routes.js'
import { createAuthContext } from './auth.service.js'
import { consentRoutes } from './consent.routes.js'
import { usersRoutes } from './users.routes.js'

export interface IdentityPluginOptions {
  db: Kysely<Database>
  signer: TokenSigner
  /** Keys published in the JWKS; defaults to the signing key's public half (add old keys while rotating). */
  publicKeys?: readonly VerifyingKey[]
  refreshTokenTtlDays: number
  authPerMinute: number
  /** Where the attempt limits count (`database`: shared by every replica). Default `memory`. */
  limitStore?: LimitStore
  /** Who is online, for `GET /users/?ids=` (a PresenceTracker on the bus the gateways publish on). */
  presence: PresenceReader
}

/** The identity service: accounts, sessions, tokens and the JWKS. Needs `app.authenticate` (service-kit). */
export const identityPlugin: FastifyPluginAsyncTypebox<IdentityPluginOptions> = async (app, options) => {
  const publicKeys = options.publicKeys ?? [options.signer.key]
  await app.register(authRoutes, await createAuthContext(options))
  await app.register(usersRoutes, { db: options.db, publicKeys, presence: options.presence })
  await app.register(consentRoutes, { db: options.db })
}
