import type { Kysely } from 'kysely'
import { toUser, type User } from '@chat/contracts'
import type { Database } from '@chat/db'

/**
 * The public `User` of an id; undefined when no such user exists (a token
 * that outlived its account). Every service that names a user reads it here.
 */
export async function findUser(db: Kysely<Database>, userId: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').select(['id', 'display_name', 'created_at']).where('id', '=', userId).executeTakeFirst()
  return row ? toUser(row) : undefined
}
