import { sql, type Kysely } from 'kysely'
import type { Database } from '@chat/db'

/** A stored room event as the gateway sends it: its payload is the frame's JSON text. */
export interface StoredEventRow {
  seq: number
  type: string
  payload: string
}

/** What a socket may see of a room, and the room's latest seq, read in one snapshot. */
export type SubscribeAccess = { kind: 'no_room' } | { kind: 'outsider' } | { kind: 'participant'; lastSeq: number }

/**
 * The participation check and the room's `last_seq` in one statement: events
 * up to `lastSeq` happened while the caller was a participant; a removal
 * after it arrives as a later event.
 */
export async function findSubscribeAccess(db: Kysely<Database>, roomId: string, userId: string): Promise<SubscribeAccess> {
  const row = await db
    .selectFrom('rooms')
    .leftJoin('room_participants', (join) =>
      join.onRef('room_participants.room_id', '=', 'rooms.id').on('room_participants.user_id', '=', userId)
    )
    .select(['rooms.last_seq', 'room_participants.user_id'])
    .where('rooms.id', '=', roomId)
    .executeTakeFirst()
  if (!row) return { kind: 'no_room' }
  if (!row.user_id) return { kind: 'outsider' }
  return { kind: 'participant', lastSeq: Number(row.last_seq) }
}

/** The room's latest seq, or undefined when there is no such room. */
export async function findRoomLastSeq(db: Kysely<Database>, roomId: string): Promise<number | undefined> {
  const row = await db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirst()
  return row ? Number(row.last_seq) : undefined
}

/**
 * Events of a room with `afterSeq < seq < beforeSeq` (no upper bound when
 * `beforeSeq` is undefined), oldest first, at most `limit`. The payload comes
 * back as JSON text, ready to send.
 */
export async function readRoomEvents(
  db: Kysely<Database>,
  roomId: string,
  range: { afterSeq: number; beforeSeq?: number; limit: number }
): Promise<StoredEventRow[]> {
  let query = db
    .selectFrom('room_events')
    .select(['seq', 'type', sql<string>`payload::text`.as('payload')])
    .where('room_id', '=', roomId)
    .where('seq', '>', range.afterSeq)
  if (range.beforeSeq !== undefined) query = query.where('seq', '<', range.beforeSeq)
  const rows = await query.orderBy('seq').limit(range.limit).execute()
  return rows.map((row) => ({ seq: Number(row.seq), type: row.type, payload: row.payload }))
}

/**
 * Deletes published events older than `olderThanDays`, at most `batch` rows,
 * always keeping each room's newest event (so `last_seq` stays explainable).
 * Returns the number of rows deleted.
 */
export async function pruneRoomEvents(db: Kysely<Database>, olderThanDays: number, batch: number): Promise<number> {
  const result = await sql<{ count: number }>`
    with doomed as (
      select e.room_id, e.seq from room_events e join rooms r on r.id = e.room_id
      where e.created_at < now() - make_interval(days => ${olderThanDays})
        and e.published_at is not null
        and e.seq < r.last_seq
      limit ${batch}
    )
    delete from room_events e using doomed d where e.room_id = d.room_id and e.seq = d.seq`.execute(db)
  return Number(result.numAffectedRows ?? 0)
}
