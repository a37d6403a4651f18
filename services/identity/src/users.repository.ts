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

/**
 * The users of `ids` the caller may see the presence of: themselves and
 * anyone who shares a room with them (one query); the others are left out,
 * like unknown ids.
 */
export async function listVisibleUsers(
  db: Kysely<Database>,
  callerId: string,
  ids: readonly string[]
): Promise<Array<User & { lastSeenAt: Date | null }>> {
  if (ids.length === 0) return []
  const rows = await db
    .selectFrom('users')
    .select(['users.id', 'users.display_name', 'users.created_at', 'users.last_seen_at'])
    .where('users.id', 'in', ids)
    .where((eb) =>
      eb.or([
        eb('users.id', '=', callerId),
        eb.exists(
          eb
            .selectFrom('room_participants as mine')
            .innerJoin('room_participants as theirs', 'theirs.room_id', 'mine.room_id')
            .select(sql`1`.as('one'))
            .where('mine.user_id', '=', callerId)
            .whereRef('theirs.user_id', '=', 'users.id')
        )
      ])
    )
    .execute()
  return rows.map((row) => ({ ...toUser(row), lastSeenAt: row.last_seen_at }))
}
