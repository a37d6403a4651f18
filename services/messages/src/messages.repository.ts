import { sql, type Kysely, type Transaction } from 'kysely'
import type { Message, ReactionCounts, User } from '@chat/contracts'
import type { Database, MessageRow } from '@chat/db'

/** A message row with its sender's public columns. */
interface MessageWithSenderRow extends MessageRow {
  sender_display_name: string
  sender_created_at: Date
}

/** Reaction counts of one message, and the reaction of the user who asks. */
interface ReactionSummary {
  counts: ReactionCounts
  mine: string | null
}

const noReactions: ReactionSummary = { counts: {}, mine: null }

/** The API shape of a message. A deleted message is a tombstone: no text, no reactions. */
function toMessage(row: MessageWithSenderRow, reactions: ReactionSummary = noReactions): Message {
  const deleted = row.deleted_at !== null
  return {
    id: row.id,
    room_id: row.room_id,
    seq: row.seq,
    sender: { id: row.sender_id, display_name: row.sender_display_name, created_at: row.sender_created_at.toISOString() },
    text: deleted ? '' : row.text,
    client_msg_id: row.client_msg_id,
    created_at: row.created_at.toISOString(),
    edited_at: row.edited_at ? row.edited_at.toISOString() : null,
    deleted,
    reactions: deleted ? {} : reactions.counts,
    my_reaction: deleted ? null : reactions.mine
  }
}

function selectMessagesWithSender(db: Kysely<Database>) {
  return db
    .selectFrom('messages')
    .innerJoin('users', 'users.id', 'messages.sender_id')
    .select([
      'messages.id',
      'messages.room_id',
      'messages.seq',
      'messages.sender_id',
      'messages.text',
      'messages.client_msg_id',
      'messages.created_at',
      'messages.edited_at',
      'messages.deleted_at',
      'users.display_name as sender_display_name',
      'users.created_at as sender_created_at'
    ])
}

/**
 * The statements of one send, in the order the send transaction runs them.
 * Exported so that the benchmark's ceiling loop runs exactly these.
 */
export const sendStatements = {
  /**
   * Locks the room row (serializing the room's writers until commit) and
   * answers, in one round trip: does the room exist, does the sender
   * participate (then their public columns), and the room's current last seq.
   */
  lockRoom(db: Kysely<Database>, roomId: string, senderId: string) {
    return db
      .selectFrom('rooms')
      .leftJoin('room_participants', (join) =>
        join.onRef('room_participants.room_id', '=', 'rooms.id').on('room_participants.user_id', '=', senderId)
      )
      .leftJoin('users', 'users.id', 'room_participants.user_id')
      .select(['rooms.last_seq', 'users.id as sender_id', 'users.display_name as sender_display_name', 'users.created_at as sender_created_at'])
      .where('rooms.id', '=', roomId)
      .forUpdate('rooms')
  },

  /**
   * One statement: unless the sender already stored `clientMsgId` in this room,
   * takes the room's next seq and inserts the message and its
   * `message.created` event. Runs under the room lock, so its snapshot sees
   * every earlier send of the room, and `seq` is the locked last seq + 1.
   */
  write(input: {
    messageId: string
    roomId: string
    senderId: string
    text: string
    clientMsgId: string | null
    createdAt: Date
    payload: string
  }) {
    const { messageId, roomId, senderId, text, clientMsgId, createdAt, payload } = input
    return sql<{ prior_id: string | null; seq: number | null }>`
      with prior as (
        select id from messages
        where room_id = ${roomId}::uuid and sender_id = ${senderId}::uuid and client_msg_id = ${clientMsgId}::text
      ), next_seq as (
        update rooms set last_seq = last_seq + 1, last_activity_at = ${createdAt}::timestamptz
        where id = ${roomId}::uuid and not exists (select 1 from prior)
        returning last_seq
      ), inserted as (
        insert into messages (id, room_id, seq, sender_id, text, client_msg_id, created_at)
        select ${messageId}::uuid, ${roomId}::uuid, last_seq, ${senderId}::uuid, ${text}::text, ${clientMsgId}::text, ${createdAt}::timestamptz
        from next_seq
        returning seq
      ), event as (
        insert into room_events (room_id, seq, type, payload, created_at)
        select ${roomId}::uuid, seq, 'message.created', ${payload}::jsonb, ${createdAt}::timestamptz from inserted
        returning seq
      )
      select (select id from prior) as prior_id, (select seq from event) as seq`
  }
}

/**
 * Runs {@link sendStatements.lockRoom}: undefined when there is no such room;
 * `sender` is null when they do not participate.
 */
export async function lockRoomForSend(trx: Transaction<Database>, roomId: string, senderId: string): Promise<{ lastSeq: number; sender: User | null } | undefined> {
  const row = await sendStatements.lockRoom(trx, roomId, senderId).executeTakeFirst()
  if (!row) return undefined
  const { sender_id: id, sender_display_name: displayName, sender_created_at: createdAt } = row
  const sender = id === null || displayName === null || createdAt === null ? null : { id, display_name: displayName, created_at: createdAt.toISOString() }
  return { lastSeq: row.last_seq, sender }
}

/**
 * Runs {@link sendStatements.write}: `priorId` is the stored message when the
 * sender already sent `clientMsgId` in this room (nothing was written), else
 * `seq` is the seq the new message took.
 */
export async function writeMessage(trx: Transaction<Database>, input: Parameters<typeof sendStatements.write>[0]): Promise<{ priorId: string | null; seq: number | null }> {
  const { rows } = await sendStatements.write(input).execute(trx)
  return { priorId: rows[0]?.prior_id ?? null, seq: rows[0]?.seq ?? null }
}

/** A message of a room without its reactions (see {@link withReactions}); undefined when the room has no such message. */
export async function findMessageInRoom(db: Kysely<Database>, roomId: string, messageId: string): Promise<Message | undefined> {
  const row = await selectMessagesWithSender(db).where('messages.room_id', '=', roomId).where('messages.id', '=', messageId).executeTakeFirst()
  return row && toMessage(row)
}

/** The message `senderId` stored in the room with `clientMsgId`, without its reactions. */
export async function findMessageByClientMsgId(db: Kysely<Database>, roomId: string, senderId: string, clientMsgId: string): Promise<Message | undefined> {
  const row = await selectMessagesWithSender(db)
    .where('messages.room_id', '=', roomId)
    .where('messages.sender_id', '=', senderId)
    .where('messages.client_msg_id', '=', clientMsgId)
    .executeTakeFirst()
  return row && toMessage(row)
}

/** `message` with its reaction counts and `viewerId`'s own reaction, as they are now; a tombstone keeps none. */
export async function withReactions(db: Kysely<Database>, message: Message, viewerId: string): Promise<Message> {
  const summary = (await reactionSummaries(db, [message.id], viewerId)).get(message.id) ?? noReactions
  return message.deleted ? message : { ...message, reactions: summary.counts, my_reaction: summary.mine }
}

export type MessagePage = { kind: 'latest' } | { kind: 'before'; seq: number } | { kind: 'after'; seq: number }

/**
 * One page of a room's messages in ascending seq, each with its reaction
 * counts and `viewerId`'s own reaction, and whether more lie beyond it in the
 * direction it was read (one extra row tells). Two queries whatever the page size.
 */
export async function listMessagePage(
  db: Kysely<Database>,
  roomId: string,
  page: MessagePage,
  limit: number,
  viewerId: string
): Promise<{ messages: Message[]; more: boolean }> {
  let query = selectMessagesWithSender(db).where('messages.room_id', '=', roomId)
  if (page.kind === 'after') query = query.where('messages.seq', '>', page.seq).orderBy('messages.seq', 'asc')
  else {
    if (page.kind === 'before') query = query.where('messages.seq', '<', page.seq)
    query = query.orderBy('messages.seq', 'desc')
  }
  const rows = await query.limit(limit + 1).execute()
  const more = rows.length > limit
  if (more) rows.pop()
  if (page.kind !== 'after') rows.reverse()
  const summaries = await reactionSummaries(db, rows.map((row) => row.id), viewerId)
  return { messages: rows.map((row) => toMessage(row, summaries.get(row.id))), more }
}

/** True when the room has a message with a seq on the given side of `seq` (inclusive). */
export async function hasMessagesBeyond(db: Kysely<Database>, roomId: string, side: 'at_or_below' | 'at_or_above', seq: number): Promise<boolean> {
  const row = await db
    .selectFrom('messages')
    .select('seq')
    .where('room_id', '=', roomId)
    .where('seq', side === 'at_or_below' ? '<=' : '>=', seq)
    .limit(1)
    .executeTakeFirst()
  return row !== undefined
}

/** Reaction counts of the given messages, and `userId`'s own reaction on each: one query for all of them. */
async function reactionSummaries(db: Kysely<Database>, messageIds: readonly string[], userId: string | null): Promise<Map<string, ReactionSummary>> {
  const summaries = new Map<string, ReactionSummary>()
  if (messageIds.length === 0) return summaries
  const rows = await db
    .selectFrom('reactions')
    .select([
      'message_id',
      'reaction',
      (eb) => eb.fn.countAll<number>().as('count'),
      sql<boolean>`coalesce(bool_or(user_id = ${userId}::uuid), false)`.as('mine')
    ])
    .where('message_id', 'in', messageIds)
    .groupBy(['message_id', 'reaction'])
    .orderBy('message_id')
    .orderBy('reaction')
    .execute()
  for (const row of rows) {
    let summary = summaries.get(row.message_id)
    if (!summary) {
      summary = { counts: {}, mine: null }
      summaries.set(row.message_id, summary)
    }
    summary.counts[row.reaction] = Number(row.count)
    if (row.mine) summary.mine = row.reaction
  }
  return summaries
}

export async function updateMessageText(trx: Transaction<Database>, messageId: string, text: string, editedAt: Date): Promise<void> {
  await trx.updateTable('messages').set({ text, edited_at: editedAt }).where('id', '=', messageId).execute()
}

/** Leaves a tombstone: the text is wiped, the row keeps its place (seq) in the history. */
export async function markMessageDeleted(trx: Transaction<Database>, messageId: string, deletedAt: Date): Promise<void> {
  await trx.updateTable('messages').set({ text: '', deleted_at: deletedAt }).where('id', '=', messageId).execute()
}

/** True for the unique violation of a repeated (room, sender, client_msg_id). */
export function isClientMsgIdConflict(error: unknown): boolean {
  const pgError = error as { code?: string; constraint?: string } | undefined
  return pgError?.code === '23505' && pgError.constraint === 'messages_room_id_sender_id_client_msg_id_unique'
}
