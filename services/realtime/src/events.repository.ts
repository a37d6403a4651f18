import { sql, type Kysely } from 'kysely'
import type { Database } from '@chat/db'

/** A stored room event as the gateway sends it: its payload is the frame's JSON text. */
export interface StoredEventRow {
  seq: number
  type: string
  payload: string
}

/** The room's latest seq, or undefined when there is no such room. */
export async function findRoomLastSeq(db: Kysely<Database>, roomId: string): Promise<number | undefined> {
  const row = await db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirst()
  return row ? Number(row.last_seq) : undefined
}

/** The latest seq of each of `roomIds` that exists, in one statement. */
export async function findRoomsLastSeq(db: Kysely<Database>, roomIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await db.selectFrom('rooms').select(['id', 'last_seq']).where('id', 'in', roomIds).execute()
  return new Map(rows.map((row) => [row.id, Number(row.last_seq)]))
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
        and not exists (select 1 from room_events_outbox o where o.room_id = e.room_id and o.seq = e.seq)
        and e.seq < r.last_seq
      limit ${batch}
    )
    delete from room_events e using doomed d where e.room_id = d.room_id and e.seq = d.seq`.execute(db)
  return Number(result.numAffectedRows ?? 0)
}
