import type { Transaction } from 'kysely'
import type { Database } from '@chat/db'
import { appendRoomEvent, type StoredRoomEvent } from '@chat/room-events'
import { findHeir, findParticipant, setParticipantRole } from './participants.repository.js'
import { removeParticipant } from './rooms.repository.js'

/**
 * Takes a user out of a group room (they left, or an owner or admin removed
 * them) with its `participants.removed` event, in the caller's transaction
 * and under its room lock. A leaving owner hands the room to the
 * longest-standing admin, else member (`participants.updated`), so a room
 * with people in it always has an owner; a room left empty keeps none.
 */
export async function takeOutOfRoom(trx: Transaction<Database>, roomId: string, userId: string): Promise<StoredRoomEvent[]> {
  const found = await findParticipant(trx, roomId, userId)
  if (!found || !(await removeParticipant(trx, roomId, userId))) return []
  const events = [await appendRoomEvent(trx, roomId, 'participants.removed', { users: [found.user] })]
  if (found.participant.role !== 'owner') return events
  const heirId = await findHeir(trx, roomId)
  if (heirId === undefined) return events
  // The one-owner index (0006) holds: the old owner's row is gone already.
  await setParticipantRole(trx, roomId, heirId, 'owner')
  const heir = await findParticipant(trx, roomId, heirId)
  if (heir) events.push(await appendRoomEvent(trx, roomId, 'participants.updated', { participants: [heir.participant] }))
  return events
}
