import { sql, type Kysely, type Transaction } from 'kysely'
import type { Message, ReactionCounts, User } from '@chat/contracts'
import type { Database, MessageRow } from '@chat/db'

/** A message row with its sender's public columns. */
export interface MessageWithSenderRow extends MessageRow {
  sender_display_name: string
  sender_created_at: Date
}

/** Reaction counts of one message, and the reaction of the user who asks. */
export interface ReactionSummary {
  counts: ReactionCounts
  mine: string | null
}

const noReactions: ReactionSummary = { counts: {}, mine: null }

/**
 * The API shape of a message. A deleted message is a tombstone: no text, no
 * reactions, no mentions; a deleted root keeps its thread (reply_count).
 */
export function toMessage(row: MessageWithSenderRow, reactions: ReactionSummary = noReactions, mentions: User[] = []): Message {
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
    my_reaction: deleted ? null : reactions.mine,
    reply_to: row.reply_to,
    reply_count: row.reply_count,
    last_reply_at: row.last_reply_at ? row.last_reply_at.toISOString() : null,
    mentions: deleted ? [] : mentions
  }
}

/** The columns of {@link MessageWithSenderRow}, for every query that answers messages (the room, a thread, search). */
export const messageWithSenderColumns = [
  'messages.id',
  'messages.room_id',
  'messages.seq',
  'messages.sender_id',
  'messages.text',
  'messages.client_msg_id',
  'messages.created_at',
  'messages.edited_at',
  'messages.deleted_at',
  'messages.reply_to',
  'messages.reply_count',
  'messages.last_reply_at',
  'users.display_name as sender_display_name',
  'users.created_at as sender_created_at'
] as const

function selectMessagesWithSender(db: Kysely<Database>) {
  return db
    .selectFrom('messages')
    .innerJoin('users', 'users.id', 'messages.sender_id')
    .select(messageWithSenderColumns)
}

/** One send of a batch, as chat_send_messages (migration 0002) reads it. */
export interface SendBatchItem {
  /** Its position in the batch; the answers come back by it. */
  ord: number
  /** UUIDv7 of the message, made when the send arrived. */
  id: string
  room_id: string
  sender_id: string
  text: string
  client_msg_id: string | null
  created_at: string
  /** The message replied to: 404 unless it is in the same room. */
  reply_to: string | null
  /** Per `@` of the text, the display-name keys it could name, longest first (mentions.ts). */
  mention_tokens: string[][]
  /** User ids the client mentions. */
  mention_ids: readonly string[]
  /** Check room and membership only, store nothing (the text cannot be stored). */
  check_only: boolean
}

/** What became of one send of a batch. */
export type SendBatchOutcome =
  | { ord: number; status: 'created'; seq: number; payload: string }
  | { ord: number; status: 'no_room' | 'outsider' | 'checked' | 'repeat' | 'repeat_in_batch' | 'no_reply_to' }

/**
 * Stores a batch of sends in one statement and one commit: the rooms locked
 * in id order, each send checked (room, membership, repeated client_msg_id,
 * reply_to), seqs taken in batch order per room, messages, mentions, thread
 * roots' counts and message.created events written (migration 0003). `payload` is the event's frame as stored (and as it is published).
 */
export async function runSendBatch(db: Kysely<Database>, items: readonly SendBatchItem[]): Promise<SendBatchOutcome[]> {
  const { rows } = await sql<{ ord: number; status: SendBatchOutcome['status']; seq: number | null; payload: string | null }>`
    select ord, status, seq, payload from chat_send_messages(${JSON.stringify(items)}::jsonb)`.execute(db)
  return rows.map((row) =>
    row.status === 'created' ? { ord: row.ord, status: 'created', seq: Number(row.seq), payload: row.payload! } : { ord: row.ord, status: row.status }
  )
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

/** `message` with its reaction counts, `viewerId`'s own reaction and its mentions, as they are now; a tombstone keeps none. */
export async function withDetails(db: Kysely<Database>, message: Message, viewerId: string): Promise<Message> {
  if (message.deleted) return message
  const [summaries, mentions] = await Promise.all([reactionSummaries(db, [message.id], viewerId), mentionsOf(db, [message.id])])
  const summary = summaries.get(message.id) ?? noReactions
  return { ...message, reactions: summary.counts, my_reaction: summary.mine, mentions: mentions.get(message.id) ?? [] }
}

export type MessagePage = { kind: 'latest' } | { kind: 'before'; seq: number } | { kind: 'after'; seq: number }

/** The messages a page is read from: a room's, or one thread's replies. */
export type MessageScope = { roomId: string; threadRootId?: string }

/**
 * One page of a room's messages in ascending seq, each with its reaction
 * counts and `viewerId`'s own reaction, and whether more lie beyond it in the
 * direction it was read (one extra row tells). Two queries whatever the page size.
 */
export async function listMessagePage(
  db: Kysely<Database>,
  scope: MessageScope,
  page: MessagePage,
  limit: number,
  viewerId: string
): Promise<{ messages: Message[]; more: boolean }> {
  let query = selectMessagesWithSender(db).where('messages.room_id', '=', scope.roomId)
  if (scope.threadRootId !== undefined) query = query.where('messages.reply_to', '=', scope.threadRootId)
  if (page.kind === 'after') query = query.where('messages.seq', '>', page.seq).orderBy('messages.seq', 'asc')
  else {
    if (page.kind === 'before') query = query.where('messages.seq', '<', page.seq)
    query = query.orderBy('messages.seq', 'desc')
  }
  const rows = await query.limit(limit + 1).execute()
  const more = rows.length > limit
  if (more) rows.pop()
  if (page.kind !== 'after') rows.reverse()
  const ids = rows.map((row) => row.id)
  const [summaries, mentions] = await Promise.all([reactionSummaries(db, ids, viewerId), mentionsOf(db, ids)])
  return { messages: rows.map((row) => toMessage(row, summaries.get(row.id), mentions.get(row.id))), more }
}

/** True when the scope has a message with a seq on the given side of `seq` (inclusive). */
export async function hasMessagesBeyond(db: Kysely<Database>, scope: MessageScope, side: 'at_or_below' | 'at_or_above', seq: number): Promise<boolean> {
  let query = db
    .selectFrom('messages')
    .select('seq')
    .where('room_id', '=', scope.roomId)
    .where('seq', side === 'at_or_below' ? '<=' : '>=', seq)
  if (scope.threadRootId !== undefined) query = query.where('reply_to', '=', scope.threadRootId)
  const row = await query.limit(1).executeTakeFirst()
  return row !== undefined
}

/** Who each of the given messages mentions, by display name: one query for all of them. */
export async function mentionsOf(db: Kysely<Database>, messageIds: readonly string[]): Promise<Map<string, User[]>> {
  const mentions = new Map<string, User[]>()
  if (messageIds.length === 0) return mentions
  const rows = await db
    .selectFrom('message_mentions')
    .innerJoin('users', 'users.id', 'message_mentions.user_id')
    .select(['message_mentions.message_id', 'users.id', 'users.display_name', 'users.created_at'])
    .where('message_mentions.message_id', 'in', messageIds)
    .orderBy('message_mentions.message_id')
    .orderBy('users.display_name_key')
    .execute()
  for (const row of rows) {
    const list = mentions.get(row.message_id) ?? []
    list.push({ id: row.id, display_name: row.display_name, created_at: row.created_at.toISOString() })
    mentions.set(row.message_id, list)
  }
  return mentions
}

/**
 * Makes the message's mentions those its text's `tokens` and the client's
 * `ids` name now (an edit), decided by chat_mentioned_users as for a send.
 * Returns the users it did not mention before: they get a notice.
 */
export async function replaceMentions(
  trx: Transaction<Database>,
  message: { id: string; roomId: string; seq: number; senderId: string },
  tokens: string[][],
  ids: readonly string[]
): Promise<string[]> {
  const before = await trx.deleteFrom('message_mentions').where('message_id', '=', message.id).returning('user_id').execute()
  const { rows } = await sql<{ user_id: string }>`
    insert into message_mentions (message_id, user_id, room_id, seq)
    select ${message.id}::uuid, mu.user_id, ${message.roomId}::uuid, ${message.seq}::int8
    from chat_mentioned_users(${message.roomId}::uuid, ${message.senderId}::uuid, ${JSON.stringify(tokens)}::jsonb, ${JSON.stringify(ids)}::jsonb) as mu
    returning user_id`.execute(trx)
  const had = new Set(before.map((row) => row.user_id))
  return rows.map((row) => row.user_id).filter((id) => !had.has(id))
}

/** A deleted message mentions nobody any more: its mentions stop counting as unread. */
export async function deleteMentions(trx: Transaction<Database>, messageId: string): Promise<void> {
  await trx.deleteFrom('message_mentions').where('message_id', '=', messageId).execute()
}

/** Reaction counts of the given messages, and `userId`'s own reaction on each: one query for all of them. */
export async function reactionSummaries(db: Kysely<Database>, messageIds: readonly string[], userId: string | null): Promise<Map<string, ReactionSummary>> {
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
