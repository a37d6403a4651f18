import type { Room } from '@chat/contracts'
import { appendRoomEvent } from '@chat/room-events'
import { roomErrors } from './errors.js'
import { addParticipants, findDirectRoom, insertDirectRoom, resolveDisplayNames } from './rooms.repository.js'
import { loadRoom, type RoomsContext } from './rooms.service.js'

/**
 * The direct room of the caller and the user called `displayName`, created
 * when they have none (with its `participants.added` event, in one
 * transaction). Either of the two gets the same room, also when both ask at
 * once: the loser of that race finds the winner's room.
 */
export async function openDirectRoom(
  context: RoomsContext,
  input: { userId: string; displayName: string; requestId?: string }
): Promise<{ room: Room; created: boolean }> {
  const { db, publisher } = context
  // Someone who blocked the caller is an unknown name; rooms_invite does not close direct rooms.
  const { users, notFound } = await resolveDisplayNames(db, [input.displayName], { inviterId: input.userId, groupRoom: false })
  const other = users[0]
  if (notFound.length > 0 || !other) throw roomErrors.usersNotFound(notFound)
  if (other.id === input.userId) throw roomErrors.directWithSelf()
  const existing = await findDirectRoom(db, input.userId, other.id)
  if (existing) return { room: await loadRoom(db, existing, input.userId), created: false }

  const made = await db.transaction().execute(async (trx) => {
    const roomId = await insertDirectRoom(trx, input.userId, other.id)
    if (roomId === undefined) return undefined
    // No owner: neither of the two has more say in a direct room.
    await addParticipants(trx, roomId, [
      { id: input.userId, role: 'member' },
      { id: other.id, role: 'member' }
    ])
    return { roomId, event: await appendRoomEvent(trx, roomId, 'participants.added', { users: [other] }) }
  })
  if (!made) {
    // The other user's request created it between our look and our insert.
    const raced = await findDirectRoom(db, input.userId, other.id)
    if (!raced) throw new Error('direct room: the insert conflicted, yet no room holds the pair')
    return { room: await loadRoom(db, raced, input.userId), created: false }
  }
  await publisher.publish([made.event], input.requestId)
  context.notifyCreator(input.userId, made.roomId)
  return { room: await loadRoom(db, made.roomId, input.userId), created: true }
}
