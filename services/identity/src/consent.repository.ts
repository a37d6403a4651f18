import { sql, type Kysely } from 'kysely'
import { toUser, type Block, type Me, type RoomsInvite } from '@chat/contracts'
import type { Database } from '@chat/db'

/** The caller with their own settings; undefined when the account is gone. */
export async function findMe(db: Kysely<Database>, userId: string): Promise<Me | undefined> {
  const row = await db.selectFrom('users').select(['id', 'display_name', 'created_at', 'rooms_invite']).where('id', '=', userId).executeTakeFirst()
  return row && { ...toUser(row), rooms_invite: row.rooms_invite }
}

export async function setRoomsInvite(db: Kysely<Database>, userId: string, roomsInvite: RoomsInvite): Promise<void> {
  await db.updateTable('users').set({ rooms_invite: roomsInvite }).where('id', '=', userId).execute()
}

/**
 * Records that `blockerId` blocked `blockedId` unless they already had, and
 * unless `blockerId` has `max` blocks already (one statement: the count and
 * the insert see the same snapshot). The block as stored, or undefined when
 * the limit refused it or `blockedId` is no user.
 */
export async function insertBlock(db: Kysely<Database>, blockerId: string, blockedId: string, max: number): Promise<Block | undefined> {
  await db
    .insertInto('user_blocks')
    .columns(['blocker_id', 'blocked_id'])
    .expression((eb) =>
      eb
        .selectFrom('users')
        .select([sql<string>`${blockerId}::uuid`.as('blocker_id'), 'users.id'])
        .where('users.id', '=', blockedId)
        .where((inner) => inner(inner.selectFrom('user_blocks').select(inner.fn.countAll<number>().as('n')).where('blocker_id', '=', blockerId), '<', max))
    )
    .onConflict((conflict) => conflict.columns(['blocker_id', 'blocked_id']).doNothing())
    .execute()
  const [block] = await listBlocks(db, blockerId, blockedId)
  return block
}

export async function deleteBlock(db: Kysely<Database>, blockerId: string, blockedId: string): Promise<void> {
  await db.deleteFrom('user_blocks').where('blocker_id', '=', blockerId).where('blocked_id', '=', blockedId).execute()
}

/** The users `blockerId` blocked, the latest first (all of one user's: at most `limits.blocksPerUser`); or the one of `onlyId`. */
export async function listBlocks(db: Kysely<Database>, blockerId: string, onlyId?: string): Promise<Block[]> {
  let query = db
    .selectFrom('user_blocks')
    .innerJoin('users', 'users.id', 'user_blocks.blocked_id')
    .select(['users.id', 'users.display_name', 'users.created_at', 'user_blocks.created_at as blocked_at'])
    .where('user_blocks.blocker_id', '=', blockerId)
    .orderBy('user_blocks.created_at', 'desc')
    .orderBy('users.id')
  if (onlyId !== undefined) query = query.where('user_blocks.blocked_id', '=', onlyId)
  const rows = await query.execute()
  return rows.map((row) => ({ user: toUser(row), created_at: row.blocked_at.toISOString() }))
}

export async function userExists(db: Kysely<Database>, userId: string): Promise<boolean> {
  return (await db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst()) !== undefined
}
