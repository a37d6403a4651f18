import { sql, type Kysely } from 'kysely'
import type { Database } from '@chat/db'

/** Everyone who shares at least one room with `userId` (themselves included). */
export async function coMemberIds(db: Kysely<Database>, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('room_participants as other')
    .select('other.user_id')
    .distinct()
    .where('other.room_id', 'in', (eb) => eb.selectFrom('room_participants as mine').select('mine.room_id').where('mine.user_id', '=', userId))
    .execute()
  return rows.map((row) => row.user_id)
}

/** Moves `last_seen_at` forward only: several gateways may report the same lapse, in any order. */
export async function markLastSeen(db: Kysely<Database>, userIds: readonly string[], at: Date): Promise<void> {
  if (userIds.length === 0) return
  await db
    .updateTable('users')
    .set({ last_seen_at: sql<Date>`greatest(coalesce(users.last_seen_at, ${at}::timestamptz), ${at}::timestamptz)` })
    .where('id', 'in', userIds)
    .execute()
}
