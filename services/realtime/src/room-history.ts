import type { Kysely } from 'kysely'
import type { Database } from '@chat/db'
import { findRoomAccess, type RoomAccess } from '@chat/room-events'
import { findRoomLastSeq, findRoomsLastSeq, readRoomEvents, type StoredEventRow } from './events.repository.js'

export type { RoomAccess, StoredEventRow }

/** Rooms per statement when many rooms' seqs are compared with the store. */
const lastSeqBatch = 1000

/**
 * What the gateway reads of a room's stored history (like Centrifuge's
 * broker `History`): the channels and subscriptions see this port, never
 * the database.
 */
export interface RoomHistory {
  /** The room's latest seq, or undefined when there is no such room. */
  lastSeq(roomId: string): Promise<number | undefined>
  /** The latest seq of each room that exists; the reconciliation asks for every watched room at once. */
  lastSeqs(roomIds: readonly string[]): Promise<Map<string, number>>
  /** Stored events with `afterSeq < seq < beforeSeq`, oldest first, at most `limit`. */
  readAfter(roomId: string, range: { afterSeq: number; beforeSeq?: number; limit: number }): Promise<StoredEventRow[]>
  /** Whether the user participates in the room, and the room's latest seq, in one snapshot. */
  accessOf(roomId: string, userId: string): Promise<RoomAccess>
}

/** The history kept in PostgreSQL (`rooms`, `room_participants`, `room_events`). */
export function roomHistoryInStore(db: Kysely<Database>): RoomHistory {
  return {
    lastSeq: (roomId) => findRoomLastSeq(db, roomId),
    async lastSeqs(roomIds) {
      const seqs = new Map<string, number>()
      for (let start = 0; start < roomIds.length; start += lastSeqBatch) {
        for (const [roomId, seq] of await findRoomsLastSeq(db, roomIds.slice(start, start + lastSeqBatch))) seqs.set(roomId, seq)
      }
      return seqs
    },
    readAfter: (roomId, range) => readRoomEvents(db, roomId, range),
    accessOf: (roomId, userId) => findRoomAccess(db, roomId, userId)
  }
}
