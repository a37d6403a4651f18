import { sql, type Kysely } from 'kysely'
import { displayNameKey, toUser, type User } from '@chat/contracts'
import type { Database } from '@chat/db'

/** A user with the hash their password is checked against; it never leaves the identity service. */
export interface UserCredentials {
  user: User
  passwordHash: string
}

/** Inserts a user; undefined when the display name is taken (case-insensitively, after NFC). */
export async function insertUser(db: Kysely<Database>, displayName: string, passwordHash: string): Promise<User | undefined> {
  const row = await db
    .insertInto('users')
    .values({ display_name: displayName, display_name_key: displayNameKey(displayName), password_hash: passwordHash })
    .onConflict((conflict) => conflict.column('display_name_key').doNothing())
    .returning(['id', 'display_name', 'created_at'])
    .executeTakeFirst()
  return row && toUser(row)
}

export async function findCredentials(db: Kysely<Database>, displayName: string): Promise<UserCredentials | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'display_name', 'created_at', 'password_hash'])
    .where('display_name_key', '=', displayNameKey(displayName))
    .executeTakeFirst()
  return row && { user: toUser(row), passwordHash: row.password_hash }
}

/** `%`, `_` and `\` in a search are literal characters, not patterns. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`)
}

/** Users whose display name starts with `prefix`, case-insensitively, in code point order of the key (the same on every database collation). */
export async function listUsersByPrefix(db: Kysely<Database>, prefix: string, limit: number): Promise<User[]> {
  let query = db.selectFrom('users').select(['id', 'display_name', 'created_at']).orderBy(sql`display_name_key collate "C"`).orderBy('id').limit(limit)
  if (prefix !== '') query = query.where('display_name_key', 'like', `${escapeLike(displayNameKey(prefix))}%`)
  return (await query.execute()).map(toUser)
}
