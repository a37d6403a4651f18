import type { Kysely } from 'kysely'
import type { User } from '@chat/contracts'
import type { Database } from '@chat/db'
import { errors, findUser } from '@chat/service-kit'
import { listUsersByPrefix } from './users.repository.js'

/** What the user lookups need. */
export interface UsersContext {
  db: Kysely<Database>
}

/** The caller's own user. */
export async function getMe(context: UsersContext, userId: string): Promise<User> {
  const user = await findUser(context.db, userId)
  // A valid token for a user that no longer exists.
  if (!user) throw errors.unauthenticated('The account of this token no longer exists')
  return user
}

/** Users whose display name starts with `search`, case-insensitively. */
export async function searchUsers(context: UsersContext, input: { search: string; limit: number }): Promise<User[]> {
  return listUsersByPrefix(context.db, input.search, input.limit)
}
