import type { Kysely, Transaction } from 'kysely'
import { toUser, type Reaction, type ReactionCounts, type User } from '@chat/contracts'
import type { Database } from '@chat/db'

/** What the reaction checks need to know of a message. */
export interface ReactionTarget {
  roomId: string
  deleted: boolean
}

/** A reaction row with its user's public columns. */
interface ReactionWithUserRow {
  message_id: string
  reaction: string
  created_at: Date
  updated_at: Date
  user_id: string
  user_display_name: string
  user_created_at: Date
}

/** The API shape of a reaction. */
function toReaction(row: ReactionWithUserRow): Reaction {
  return {
    message_id: row.message_id,
    user: toUser({ id: row.user_id, display_name: row.user_display_name, created_at: row.user_created_at }),
    reaction: row.reaction,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString()
  }
}

export async function findReactionTarget(db: Kysely<Database>, messageId: string): Promise<ReactionTarget | undefined> {
  const row = await db.selectFrom('messages').select(['room_id', 'deleted_at']).where('id', '=', messageId).executeTakeFirst()
  return row && { roomId: row.room_id, deleted: row.deleted_at !== null }
}

function selectReactionsWithUser(db: Kysely<Database>) {
  return db
    .selectFrom('reactions')
    .innerJoin('users', 'users.id', 'reactions.user_id')
    .select([
      'reactions.message_id',
      'reactions.reaction',
      'reactions.created_at',
      'reactions.updated_at',
      'reactions.user_id',
      'users.display_name as user_display_name',
      'users.created_at as user_created_at'
    ])
}

/** Every reaction on a message, oldest first (ties by user id, so the order is stable). */
export async function listMessageReactions(db: Kysely<Database>, messageId: string): Promise<Reaction[]> {
  const rows = await selectReactionsWithUser(db)
    .where('reactions.message_id', '=', messageId)
    .orderBy('reactions.created_at')
    .orderBy('reactions.user_id')
    .execute()
  return rows.map(toReaction)
}

export async function findOwnReaction(db: Kysely<Database>, messageId: string, userId: string): Promise<Reaction | undefined> {
  const row = await selectReactionsWithUser(db)
    .where('reactions.message_id', '=', messageId)
    .where('reactions.user_id', '=', userId)
    .executeTakeFirst()
  return row && toReaction(row)
}

/** Sets the user's reaction on a message: a new row, or the same row with another reaction and a new `updated_at`. */
export async function upsertReaction(
  trx: Transaction<Database>,
  input: { messageId: string; user: User; reaction: string; at: Date }
): Promise<Reaction> {
  const row = await trx
    .insertInto('reactions')
    .values({ message_id: input.messageId, user_id: input.user.id, reaction: input.reaction, created_at: input.at, updated_at: input.at })
    .onConflict((conflict) => conflict.columns(['message_id', 'user_id']).doUpdateSet({ reaction: input.reaction, updated_at: input.at }))
    .returning(['reaction', 'created_at', 'updated_at'])
    .executeTakeFirstOrThrow()
  return { message_id: input.messageId, user: input.user, reaction: row.reaction, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() }
}

/** Removes the user's reaction; false when there was none. */
export async function deleteReaction(trx: Transaction<Database>, messageId: string, userId: string): Promise<boolean> {
  const result = await trx.deleteFrom('reactions').where('message_id', '=', messageId).where('user_id', '=', userId).executeTakeFirst()
  return result.numDeletedRows > 0n
}

/** Reaction name to count for one message, names in ascending order (like the counts of `Message.reactions`). */
export async function reactionCounts(db: Kysely<Database>, messageId: string): Promise<ReactionCounts> {
  const rows = await db
    .selectFrom('reactions')
    .select(['reaction', (eb) => eb.fn.countAll<number | string | bigint>().as('count')])
    .where('message_id', '=', messageId)
    .groupBy('reaction')
    .orderBy('reaction')
    .execute()
  const counts: ReactionCounts = {}
  for (const row of rows) counts[row.reaction] = Number(row.count)
  return counts
}
