import type { Kysely } from 'kysely'
import { toUser, type User } from '@chat/contracts'
import type { Database } from '@chat/db'

/** The user a verified token names, as frames show it; undefined when the account is gone. */
export async function findUserById(db: Kysely<Database>, userId: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').select(['id', 'display_name', 'created_at']).where('id', '=', userId).executeTakeFirst()
  return row ? toUser(row) : undefined
}
