import type { Kysely } from 'kysely'
import type { User } from '@chat/contracts'
import type { Database } from '@chat/db'
import { listUsersByPrefix } from './users.repository.js'

/** What the user lookups need. */
export interface UsersContext {
  db: Kysely<Database>
}

/** Users whose display name starts with `search`, case-insensitively. */
export async function searchUsers(context: UsersContext, input: { search: string; limit: number }): Promise<User[]> {
  return listUsersByPrefix(context.db, input.search, input.limit)
}
