import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { Database, RefreshTokenRow } from '@chat/db'

type Db = Kysely<Database> | Transaction<Database>

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Issues a refresh token in `familyId` (a new family when omitted); only its hash is stored. */
export async function issueRefreshToken(db: Db, userId: string, ttlDays: number, familyId: string = randomUUID()): Promise<string> {
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

export async function lockRefreshToken(trx: Transaction<Database>, token: string): Promise<RefreshTokenRow | undefined> {
  return trx.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', hashRefreshToken(token)).forUpdate().executeTakeFirst()
}

export async function markRotated(trx: Transaction<Database>, tokenId: string): Promise<void> {
  await trx.updateTable('refresh_tokens').set({ rotated_at: new Date() }).where('id', '=', tokenId).execute()
}

export async function revokeFamily(db: Db, familyId: string): Promise<void> {
  await db.updateTable('refresh_tokens').set({ revoked_at: new Date() }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute()
}
