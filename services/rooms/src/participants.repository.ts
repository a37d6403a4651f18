import type { Transaction } from 'kysely'
import type { Participant, ParticipantRole, User } from '@chat/contracts'
import type { Database } from '@chat/db'

/** One participant of a room as `Participant`, with the user it is; undefined when they are not in the room. */
export async function findParticipant(trx: Transaction<Database>, roomId: string, userId: string): Promise<{ participant: Participant; user: User } | undefined> {
  const row = await trx
    .selectFrom('room_participants')
    .innerJoin('users', 'users.id', 'room_participants.user_id')
    .select(['users.id', 'users.display_name', 'users.created_at', 'room_participants.role', 'room_participants.joined_at'])
    .where('room_participants.room_id', '=', roomId)
    .where('room_participants.user_id', '=', userId)
    .executeTakeFirst()
  if (!row) return undefined
  return {
    participant: { id: row.id, display_name: row.display_name, role: row.role, joined_at: row.joined_at.toISOString() },
    user: { id: row.id, display_name: row.display_name, created_at: row.created_at.toISOString() }
  }
}

export async function setParticipantRole(trx: Transaction<Database>, roomId: string, userId: string, role: ParticipantRole): Promise<void> {
  await trx.updateTable('room_participants').set({ role }).where('room_id', '=', roomId).where('user_id', '=', userId).execute()
}

/** Who inherits a room from its leaving owner: the longest-standing admin, else the longest-standing member. */
export async function findHeir(trx: Transaction<Database>, roomId: string): Promise<string | undefined> {
  const row = await trx
    .selectFrom('room_participants')
    .select('user_id')
    .where('room_id', '=', roomId)
    .where('role', '<>', 'owner')
    .orderBy((eb) => eb.case().when('role', '=', 'admin').then(0).else(1).end())
    .orderBy('joined_at')
    .orderBy('user_id')
    .limit(1)
    .executeTakeFirst()
  return row?.user_id
}
