import type { Kysely } from 'kysely'
import type { User, UserPresence } from '@chat/contracts'
import type { Database } from '@chat/db'
import type { PresenceReader } from '@chat/service-kit'
import { listUsersByPrefix, listVisibleUsers } from './users.repository.js'

/** What the user lookups need. */
export interface UsersContext {
  db: Kysely<Database>
  /** Who is online (the gateways' presence, over NATS). */
  presence: PresenceReader
}

/** Users whose display name starts with `search`, case-insensitively. */
export async function searchUsers(context: UsersContext, input: { search: string; limit: number }): Promise<User[]> {
  return listUsersByPrefix(context.db, input.search, input.limit)
}

/**
 * The users of `ids` (in the order asked, each once) with their presence:
 * the caller and those who share a room with them; others are left out, so
 * that nobody can watch a stranger come and go.
 */
export async function usersWithPresence(context: UsersContext, input: { callerId: string; ids: readonly string[] }, now = new Date()): Promise<UserPresence[]> {
  const ids = [...new Set(input.ids.map((id) => id.toLowerCase()))]
  const found = new Map((await listVisibleUsers(context.db, input.callerId, ids)).map((user) => [user.id, user]))
  const users: UserPresence[] = []
  for (const id of ids) {
    const user = found.get(id)
    if (!user) continue
    const online = context.presence.isOnline(id)
    users.push({
      id: user.id,
      display_name: user.display_name,
      created_at: user.created_at,
      online,
      last_seen_at: online ? now.toISOString() : (user.lastSeenAt?.toISOString() ?? null)
    })
  }
  return users
}
