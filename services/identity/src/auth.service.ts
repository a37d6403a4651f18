import type { Kysely } from 'kysely'
import { displayNameKey, type Session, type User } from '@chat/contracts'
import type { Database } from '@chat/db'
import { findUser, limitCounter, type LimitCounter, type LimitStore, type TokenSigner } from '@chat/service-kit'
import { identityErrors } from './errors.js'
import { decoyPasswordHash, hashPassword, verifyPassword } from './passwords.js'
import { issueRefreshToken, lockFamilyOfToken, markRotated, revokeFamily } from './refresh-tokens.repository.js'
import { findCredentials, insertUser } from './users.repository.js'

/** What the session operations need; made once per plugin by {@link createAuthContext}. */
export interface AuthContext {
  db: Kysely<Database>
  signer: TokenSigner
  refreshTokenTtlDays: number
  /** Failed logins per display name key. */
  failedLogins: LimitCounter
  /** Registrations per client address. */
  registrations: LimitCounter
  /** Verified against when the name is unknown: see {@link decoyPasswordHash}. */
  decoyHash: string
}

/**
 * `authPerMinute`: failed logins per display name per minute; registrations
 * per address get three times as many. 0: no limit. `limitStore` says
 * whether they count per process or in the database every replica shares.
 */
export async function createAuthContext(
  options: Pick<AuthContext, 'db' | 'signer' | 'refreshTokenTtlDays'> & { authPerMinute: number; limitStore?: LimitStore }
): Promise<AuthContext> {
  const store = options.limitStore ?? 'memory'
  return {
    db: options.db,
    signer: options.signer,
    refreshTokenTtlDays: options.refreshTokenTtlDays,
    failedLogins: limitCounter(store, options.db, { name: 'failed-logins', limit: options.authPerMinute, windowMs: 60_000 }),
    registrations: limitCounter(store, options.db, { name: 'registrations', limit: options.authPerMinute * 3, windowMs: 60_000 }),
    decoyHash: await decoyPasswordHash()
  }
}

// Control characters (and the line/paragraph separators) would let a name
// spoof log lines or other users' names in clients.
const forbiddenInName = /[\p{Cc}\p{Zl}\p{Zp}]/u

function checkDisplayName(displayName: string): void {
  if (displayName.trim() === '') throw identityErrors.invalidDisplayName('must not be blank')
  if (forbiddenInName.test(displayName)) throw identityErrors.invalidDisplayName('must not contain control characters')
}

/** A session of `user`: a new access token and a refresh token in `familyId` (a new family when left out). */
async function startSession(context: AuthContext, user: User, familyId?: string, db: Kysely<Database> = context.db): Promise<Session> {
  const refreshToken = await issueRefreshToken(db, user.id, context.refreshTokenTtlDays, familyId)
  const access = context.signer.sign({ id: user.id, displayName: user.display_name })
  return { user, access_token: access.token, refresh_token: refreshToken, token_type: 'Bearer', expires_in: access.expiresIn }
}

/** Creates an account and starts its session; `address` is the client's, for the registration limit. */
export async function register(context: AuthContext, input: { displayName: string; password: string; address: string }): Promise<Session> {
  checkDisplayName(input.displayName)
  const wait = await context.registrations.hit(input.address)
  if (wait > 0) throw identityErrors.tooManyAttempts(wait, 'registrations')
  const user = await insertUser(context.db, input.displayName, await hashPassword(input.password))
  if (!user) throw identityErrors.displayNameTaken()
  return startSession(context, user)
}

export type LoginResult = { kind: 'session'; session: Session } | { kind: 'failed'; reason: 'wrong_password' | 'unknown_name' }

/** Starts a session for a display name and password; a failure says why, for the log only (the client gets one answer). */
export async function login(context: AuthContext, input: { displayName: string; password: string }): Promise<LoginResult> {
  const throttleKey = displayNameKey(input.displayName)
  // Counted before the slow verification, so that parallel guesses cannot
  // all pass the check while the first one is still hashing.
  const wait = await context.failedLogins.hit(throttleKey)
  if (wait > 0) throw identityErrors.tooManyAttempts(wait, 'failed_logins')
  const credentials = await findCredentials(context.db, input.displayName)
  const valid = await verifyPassword(credentials?.passwordHash ?? context.decoyHash, input.password)
  if (!credentials || !valid) return { kind: 'failed', reason: credentials ? 'wrong_password' : 'unknown_name' }
  await context.failedLogins.reset(throttleKey)
  return { kind: 'session', session: await startSession(context, credentials.user) }
}

export type RefreshResult =
  | { kind: 'rotated'; session: Session }
  | { kind: 'reused'; userId: string; familyId: string }
  | { kind: 'invalid' }

/**
 * Exchanges a refresh token for a new session in its family. A token that
 * was already exchanged is a re-use: its whole family is revoked, and that
 * revocation commits even though the exchange fails.
 */
export async function refresh(context: AuthContext, refreshToken: string): Promise<RefreshResult> {
  return context.db.transaction().execute(async (trx): Promise<RefreshResult> => {
    const stored = await lockFamilyOfToken(trx, refreshToken)
    if (!stored || stored.revoked) return { kind: 'invalid' }
    if (stored.rotated) {
      await revokeFamily(trx, stored.familyId)
      return { kind: 'reused', userId: stored.userId, familyId: stored.familyId }
    }
    if (stored.expiresAt.getTime() <= Date.now()) return { kind: 'invalid' }
    const user = await findUser(trx, stored.userId)
    if (!user) return { kind: 'invalid' }
    await markRotated(trx, stored.id)
    return { kind: 'rotated', session: await startSession(context, user, stored.familyId, trx) }
  })
}

/** Ends the session family of a refresh token of `userId`; someone else's token is left alone, silently. */
export async function logout(context: AuthContext, input: { userId: string; refreshToken: string }): Promise<void> {
  await context.db.transaction().execute(async (trx) => {
    const stored = await lockFamilyOfToken(trx, input.refreshToken)
    if (stored && stored.userId === input.userId) await revokeFamily(trx, stored.familyId)
  })
}
