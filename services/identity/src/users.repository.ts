import { sql, type Kysely } from 'kysely'
import { displayNameKey } from '@chat/contracts'
import type { Database, UserRow } from '@chat/db'

/** Inserts a user; undefined when the display name is taken (case-insensitively, after NFC). */
export async function insertUser(db: Kysely<Database>, displayName: string, passwordHash: string): Promise<UserRow | undefined> {
  return db
    .insertInto('users')
    .values({ display_name: displayName, display_name_key: displayNameKey(displayName), password_hash: passwordHash })
    .onConflict((conflict) => conflict.column('display_name_key').doNothing())
    .returningAll()
    .executeTakeFirst()
}

export async function findUserByDisplayName(db: Kysely<Database>, displayName: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('display_name_key', '=', displayNameKey(displayName)).executeTakeFirst()
}

/** `%`, `_` and `\` in a search are literal characters, not patterns. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`)
}

/** Users whose display name starts with `prefix`, case-insensitively, in code point order of the key (the same on every database collation). */
export async function searchUsers(db: Kysely<Database>, prefix: string, limit: number): Promise<UserRow[]> {
  let query = db.selectFrom('users').selectAll().orderBy(sql`display_name_key collate "C"`).orderBy('id').limit(limit)
  if (prefix !== '') query = query.where('display_name_key', 'like', `${escapeLike(displayNameKey(prefix))}%`)
  return query.execute()
}
