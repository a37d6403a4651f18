import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database, RefreshTokenRow } from '@chat/db'

/** What the session logic needs to know of a refresh token. */
export interface StoredRefreshToken {
  id: string
  userId: string
  familyId: string
  expiresAt: Date
  /** Exchanged for a new session: presenting it again is a re-use. */
  rotated: boolean
  revoked: boolean
}

function toStoredRefreshToken(row: RefreshTokenRow): StoredRefreshToken {
  return {
    id: row.id,
    userId: row.user_id,
    familyId: row.family_id,
    expiresAt: row.expires_at,
    rotated: row.rotated_at !== null,
    revoked: row.revoked_at !== null
  }
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Issues a refresh token in `familyId` (a new family when omitted); only its hash is stored. */
export async function issueRefreshToken(db: Kysely<Database>, userId: string, ttlDays: number, familyId: string = randomUUID()): Promise<string> {
  const token = randomBytes(32).toString('base64url')
  await db
    .insertInto('refresh_tokens')
    .values({
      user_id: userId,
      family_id: familyId,
      token_hash: hashRefreshToken(token),
      expires_at: new Date(Date.now() + ttlDays * 86_400_000)
    })
    .execute()
  return token
}

// First key of the family locks: keeps them apart from other advisory locks.
const FAMILY_LOCK_SPACE = 0x52454652

/**
 * Locks a token's family for the rest of the transaction, and then the
 * token's row. Every change to a family takes the family lock first, so they
 * run one after another: a revocation sees every token issued before it (no
 * token issued by a racing refresh survives), and no two of them can wait on
 * each other's row locks.
 */
export async function lockFamilyOfToken(trx: Transaction<Database>, token: string): Promise<StoredRefreshToken | undefined> {
  const tokenHash = hashRefreshToken(token)
  const peek = await trx.selectFrom('refresh_tokens').select('family_id').where('token_hash', '=', tokenHash).executeTakeFirst()
  if (!peek) return undefined
  await sql`select pg_advisory_xact_lock(${FAMILY_LOCK_SPACE}, hashtext(${peek.family_id}::text))`.execute(trx)
  const row = await trx.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).forUpdate().executeTakeFirst()
  return row && toStoredRefreshToken(row)
}

export async function markRotated(trx: Transaction<Database>, tokenId: string): Promise<void> {
  await trx.updateTable('refresh_tokens').set({ rotated_at: new Date() }).where('id', '=', tokenId).execute()
}

export async function revokeFamily(db: Kysely<Database>, familyId: string): Promise<void> {
  await db.updateTable('refresh_tokens').set({ revoked_at: new Date() }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute()
}
