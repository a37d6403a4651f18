import type { Kysely } from 'kysely'
import type { Database } from '@chat/db'
import { errors } from '@chat/service-kit'

/**
 * What a user may do in a room: it does not exist, they are outside it, or
 * they participate (with their role). `lastSeq` is the room's latest seq read
 * in the same snapshot: events up to it happened while the user participated,
 * and a removal after it arrives as a later event (the realtime gateway hands
 * a replay over to the live stream there).
 */
export type RoomAccess =
  | { kind: 'no_room' }
  | { kind: 'outsider' }
  | {
      kind: 'participant'
      role: 'owner' | 'admin' | 'member'
      lastReadSeq: number
      lastSeq: number
      roomKind: 'group' | 'direct'
      /** The room's setting: false lets only the owner and admins add people. */
      membersCanAdd: boolean
    }

/**
 * One query that answers the first two checks of every room-scoped request
 * (404 no room, then 403 not a participant). In a transaction, `lock` takes
 * the room row lock first, which serializes the room's writers.
 */
export async function findRoomAccess(
  db: Kysely<Database>,
  roomId: string,
  userId: string,
  options: { lock?: boolean } = {}
): Promise<RoomAccess> {
  let query = db
    .selectFrom('rooms')
    .leftJoin('room_participants', (join) => join.onRef('room_participants.room_id', '=', 'rooms.id').on('room_participants.user_id', '=', userId))
    .select(['rooms.last_seq', 'rooms.kind', 'rooms.members_can_add', 'room_participants.role', 'room_participants.last_read_seq'])
    .where('rooms.id', '=', roomId)
  if (options.lock) query = query.forUpdate('rooms')
  const row = await query.executeTakeFirst()
  if (!row) return { kind: 'no_room' }
  if (!row.role) return { kind: 'outsider' }
  return {
    kind: 'participant',
    role: row.role,
    lastReadSeq: row.last_read_seq ?? 0,
    lastSeq: Number(row.last_seq),
    roomKind: row.kind,
    membersCanAdd: row.members_can_add
  }
}

/**
 * The first checks of every room-scoped request, in api.md's order: 404
 * `room_not_found`, then 403 `not_a_member`. With `lock`, inside a
 * transaction, it also takes the room row lock, so the room's membership
 * cannot change under the caller until commit.
 */
export async function requireParticipant(
  db: Kysely<Database>,
  roomId: string,
  userId: string,
  options: { lock?: boolean } = {}
): Promise<Extract<RoomAccess, { kind: 'participant' }>> {
  const access = await findRoomAccess(db, roomId, userId, options)
  if (access.kind === 'no_room') throw errors.roomNotFound()
  if (access.kind === 'outsider') throw errors.notAMember()
  return access
}
