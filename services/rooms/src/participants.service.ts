import type { Room } from '@chat/contracts'
import { appendRoomEvent, requireParticipant, type StoredRoomEvent } from '@chat/room-events'
import { roomErrors } from './errors.js'
import { takeOutOfRoom } from './membership.js'
import { findParticipant, setParticipantRole } from './participants.repository.js'
import { loadRoom, refuseDirectRoom, type RoomInput, type RoomsContext } from './rooms.service.js'

/** The owner makes `targetId` admin or member; `participants.updated` when the role changes. */
export async function changeRole(context: RoomsContext, input: RoomInput & { targetId: string; role: 'admin' | 'member' }): Promise<Room> {
  const { db, publisher } = context
  const events = await db.transaction().execute(async (trx): Promise<StoredRoomEvent[]> => {
    const access = await requireParticipant(trx, input.roomId, input.userId, { lock: true })
    refuseDirectRoom(access)
    if (access.role !== 'owner') throw roomErrors.ownerRequired('change roles')
    const target = await findParticipant(trx, input.roomId, input.targetId)
    if (!target) throw roomErrors.participantNotFound()
    if (target.participant.role === 'owner') throw roomErrors.ownerRole()
    if (target.participant.role === input.role) return []
    await setParticipantRole(trx, input.roomId, input.targetId, input.role)
    return [await appendRoomEvent(trx, input.roomId, 'participants.updated', { participants: [{ ...target.participant, role: input.role }] })]
  })
  await publisher.publish(events, input.requestId)
  return loadRoom(db, input.roomId, input.userId)
}

/**
 * Removes `targetId` from a group room: the owner removes anyone, an admin
 * members only (an owner is never removed by another, so a room keeps its
 * owner; admins cannot remove each other, so the owner alone decides who
 * moderates). The caller's own id is leaving, with its hand-over.
 */
export async function removeFromRoom(context: RoomsContext, input: RoomInput & { targetId: string }): Promise<void> {
  const { db, publisher } = context
  const events = await db.transaction().execute(async (trx) => {
    const access = await requireParticipant(trx, input.roomId, input.userId, { lock: true })
    refuseDirectRoom(access)
    if (input.targetId === input.userId) return takeOutOfRoom(trx, input.roomId, input.userId)
    if (access.role === 'member') throw roomErrors.adminRequired('remove participants')
    const target = await findParticipant(trx, input.roomId, input.targetId)
    if (!target) throw roomErrors.participantNotFound()
    if (access.role === 'admin' && target.participant.role !== 'member') throw roomErrors.outranked()
    return takeOutOfRoom(trx, input.roomId, input.targetId)
  })
  await publisher.publish(events, input.requestId)
}
