import type { Transaction } from 'kysely'
import type { RoomEventFrame, RoomEventType } from '@chat/contracts'
import type { Database } from '@chat/db'
import { errors } from '@chat/service-kit'

/** A room event as written to the outbox, ready to publish. */
export interface StoredRoomEvent {
  roomId: string
  seq: number
  type: RoomEventType
  /** The exact JSON bytes that sockets receive and the bus carries. */
  payload: Uint8Array
  createdAt: Date
}

/** The members of an event frame other than `type`, `room_id` and `seq`. */
export type RoomEventData<T extends RoomEventType> = Omit<Extract<RoomEventFrame, { type: T }>, 'type' | 'room_id' | 'seq'>

/**
 * Takes the room's next seq (`last_seq + 1`) and marks the room active. The
 * row lock it takes is held until the transaction ends, so the writers of
 * one room get gapless seqs in commit order. Undefined when there is no such room.
 */
async function takeRoomSeq(trx: Transaction<Database>, roomId: string): Promise<number | undefined> {
  const row = await trx
    .updateTable('rooms')
    .set((eb) => ({ last_seq: eb('last_seq', '+', 1), last_activity_at: new Date() }))
    .where('id', '=', roomId)
    .returning('last_seq')
    .executeTakeFirst()
  return row?.last_seq
}

/**
 * Records one change to a room as its next event, inside the transaction of
 * the change itself: the event exists if and only if the change committed.
 * A room that does not exist is the coded 404 `room_not_found`.
 *
 * `data` may be a function of the event's seq, run once the seq is taken and
 * inside the same transaction: for a payload that shows the room as of this
 * event (`room.updated` carries `last_seq`), or a row that stores the seq.
 *
 * @example
 * const event = await db.transaction().execute(async (trx) => {
 *   await addParticipants(trx, roomId, users)
 *   return appendRoomEvent(trx, roomId, 'participants.added', { users })
 * })
 * await publisher.publish([event])
 */
export async function appendRoomEvent<T extends RoomEventType>(
  trx: Transaction<Database>,
  roomId: string,
  type: T,
  data: RoomEventData<T> | ((seq: number) => Promise<RoomEventData<T>>)
): Promise<StoredRoomEvent> {
  const seq = await takeRoomSeq(trx, roomId)
  if (seq === undefined) throw errors.roomNotFound()
  const members = typeof data === 'function' ? await data(seq) : data
  const json = JSON.stringify({ type, room_id: roomId, seq, ...members })
  const createdAt = new Date()
  await trx.insertInto('room_events').values({ room_id: roomId, seq, type, payload: json, created_at: createdAt }).execute()
  return { roomId, seq, type, payload: Buffer.from(json), createdAt }
}
