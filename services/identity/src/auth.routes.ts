import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import { displayNameKey, toUser, type Session, type User } from '@chat/contracts'
import type { Database } from '@chat/db'
import { callerOf, clientAddress, createWindowCounter, findUser, type TokenSigner } from '@chat/service-kit'
import { identityErrors } from './errors.js'
import { decoyPasswordHash, hashPassword, verifyPassword } from './passwords.js'
import { issueRefreshToken, lockFamilyOfToken, markRotated, revokeFamily } from './refresh-tokens.repository.js'
import { findUserByDisplayName, insertUser } from './users.repository.js'
import { loginSchema, logoutSchema, refreshSchema, registerSchema } from './auth.schemas.js'

export interface AuthRoutesOptions {
  db: Kysely<Database>
  signer: TokenSigner
  refreshTokenTtlDays: number
  /** Failed logins per display name per minute; registrations per address get three times as many. 0: no limit. */
  authPerMinute: number
}

// Control characters (and the line/paragraph separators) would let a name
// spoof log lines or other users' names in clients.
const forbiddenInName = /[\p{Cc}\p{Zl}\p{Zp}]/u

function checkDisplayName(displayName: string): void {
  if (displayName.trim() === '') throw identityErrors.invalidDisplayName('must not be blank')
  if (forbiddenInName.test(displayName)) throw identityErrors.invalidDisplayName('must not contain control characters')
}

export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, options) => {
  const { db, signer, refreshTokenTtlDays } = options
  const failedLogins = createWindowCounter(options.authPerMinute, 60_000)
  const registrations = createWindowCounter(options.authPerMinute * 3, 60_000)
  const decoyHash = await decoyPasswordHash()

  const startSession = async (user: User, familyId?: string, database: Kysely<Database> = db): Promise<Session> => {
    const refreshToken = await issueRefreshToken(database, user.id, refreshTokenTtlDays, familyId)
    const access = signer.sign({ id: user.id, displayName: user.display_name })
    return { user, access_token: access.token, refresh_token: refreshToken, token_type: 'Bearer', expires_in: access.expiresIn }
  }

  app.post('/auth/register', { schema: registerSchema }, async (request, reply) => {
    const address = clientAddress(request)
    const wait = registrations.retryAfter(address)
    if (wait > 0) throw identityErrors.tooManyAttempts(wait)
    const { display_name: displayName, password } = request.body
    checkDisplayName(displayName)
    registrations.hit(address)
    const user = await insertUser(db, displayName, await hashPassword(password))
    if (!user) throw identityErrors.displayNameTaken()
    request.log.info({ user_id: user.id }, 'user registered')
    return reply.code(201).send(await startSession(toUser(user)))
  })

  app.post('/auth/login', { schema: loginSchema }, async (request) => {
    const { display_name: displayName, password } = request.body
    const throttleKey = displayNameKey(displayName)
    const wait = failedLogins.retryAfter(throttleKey)
    if (wait > 0) throw identityErrors.tooManyAttempts(wait)
    // Counted before the slow verification, so that parallel guesses cannot
    // all pass the check while the first one is still hashing.
    failedLogins.hit(throttleKey)
    const user = await findUserByDisplayName(db, displayName)
    const valid = await verifyPassword(user?.password_hash ?? decoyHash, password)
    if (!user || !valid) {
      request.log.info({ reason: user ? 'wrong_password' : 'unknown_name' }, 'login failed')
      throw identityErrors.invalidCredentials()
    }
    failedLogins.reset(throttleKey)
    return startSession(toUser(user))
  })

  app.post('/auth/refresh', { schema: refreshSchema }, async (request) => {
    // The outcome is decided inside the transaction; a re-use must commit the
    // family's revocation before the request fails.
    const outcome = await db.transaction().execute(async (trx) => {
      const stored = await lockFamilyOfToken(trx, request.body.refresh_token)
      if (!stored || stored.revoked_at) return { kind: 'invalid' } as const
      if (stored.rotated_at) {
        await revokeFamily(trx, stored.family_id)
        return { kind: 'reused', userId: stored.user_id, familyId: stored.family_id } as const
      }
      if (stored.expires_at.getTime() <= Date.now()) return { kind: 'invalid' } as const
      const user = await findUser(trx, stored.user_id)
      if (!user) return { kind: 'invalid' } as const
      await markRotated(trx, stored.id)
      return { kind: 'rotated', session: await startSession(user, stored.family_id, trx) } as const
    })
    if (outcome.kind === 'reused') {
      request.log.warn({ user_id: outcome.userId, family_id: outcome.familyId }, 'refresh token re-used: family revoked')
      throw identityErrors.refreshTokenReused()
    }
    if (outcome.kind === 'invalid') throw identityErrors.invalidRefreshToken()
    return outcome.session
  })

  app.post('/auth/logout', { schema: logoutSchema, onRequest: app.authenticate }, async (request, reply) => {
    const caller = callerOf(request)
    await db.transaction().execute(async (trx) => {
      const stored = await lockFamilyOfToken(trx, request.body.refresh_token)
      // Someone else's token is left alone, and the answer does not say so.
      if (stored && stored.user_id === caller.id) await revokeFamily(trx, stored.family_id)
    })
    return reply.code(204).send(null)
  })
}

