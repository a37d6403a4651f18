import type { Transaction } from 'kysely'
import type { RoomEventFrame, RoomEventType } from '@chat/contracts'
import type { Database } from '@chat/db'

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
export async function takeRoomSeq(trx: Transaction<Database>, roomId: string): Promise<number | undefined> {
  const row = await trx
    .updateTable('rooms')
    .set((eb) => ({ last_seq: eb('last_seq', '+', 1), last_activity_at: new Date() }))
    .where('id', '=', roomId)
    .returning('last_seq')
    .executeTakeFirst()
  return row?.last_seq
}

/** Writes the outbox row of an event whose seq was taken with {@link takeRoomSeq}. */
export async function recordRoomEvent<T extends RoomEventType>(
  trx: Transaction<Database>,
  roomId: string,
  seq: number,
  type: T,
  data: RoomEventData<T>
): Promise<StoredRoomEvent> {
  const frame = { type, room_id: roomId, seq, ...data }
  const json = JSON.stringify(frame)
  const createdAt = new Date()
  await trx.insertInto('room_events').values({ room_id: roomId, seq, type, payload: json, created_at: createdAt }).execute()
  return { roomId, seq, type, payload: Buffer.from(json), createdAt }
}

/**
 * Records one change to a room as its next event, inside the transaction of
 * the change itself: the event exists if and only if the change committed.
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
  data: RoomEventData<T>
): Promise<StoredRoomEvent> {
  const seq = await takeRoomSeq(trx, roomId)
  if (seq === undefined) throw new Error(`room ${roomId} does not exist`)
  return recordRoomEvent(trx, roomId, seq, type, data)
}
