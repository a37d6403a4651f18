import type { Kysely } from 'kysely'
import type { Message } from '@chat/contracts'
import type { Database } from '@chat/db'
import { appendRoomEvent, requireParticipant, type RoomEventPublisher } from '@chat/room-events'
import { textProblem, type SendBatcher, type SendRequest } from './send-batcher.js'
import { messagesErrors } from './errors.js'
import {
  deleteMentions,
  findMessageByClientMsgId,
  findMessageInRoom,
  hasMessagesBeyond,
  listMessagePage,
  markMessageDeleted,
  replaceMentions,
  updateMessageText,
  withDetails,
  type MessagePage,
  type MessageScope
} from './messages.repository.js'
import type { MentionNotifier } from './mention-notices.js'
import { mentionTokens } from './mentions.js'

/** What the operations of the messages service need; shared by the HTTP routes and the NATS responder. */
export interface MessagesContext {
  db: Kysely<Database>
  publisher: RoomEventPublisher
  /** Where sends wait for their batch. */
  batcher: SendBatcher
  /** Longest text after trimming, in code points. */
  maxTextChars: number
  /** Tells users an edit newly mentions. */
  notifyMentions: MentionNotifier
}

export type SendInput = SendRequest

export interface SendResult {
  status: 201 | 200
  message: Message
}

/** Text is valid when it is not blank and at most `maxChars` code points long once trimmed. It is stored untrimmed. */
export function checkText(text: string, maxChars: number): void {
  const problem = textProblem(text, maxChars)
  if (problem) throw problem
}

/**
 * Stores a message with the next batch (group commit, see send-batcher.ts)
 * and publishes `message.created` after commit. A repeat of `clientMsgId` (by
 * the same sender, in the same room) returns the stored message with 200,
 * takes no seq and publishes nothing, also when the repeats race each other.
 */
export async function sendMessage(context: MessagesContext, input: SendInput): Promise<SendResult> {
  const answer = await context.batcher.submit(input)
  if (answer.kind === 'created') return { status: 201, message: answer.message }
  const stored = await findMessageByClientMsgId(context.db, input.roomId, input.senderId, answer.clientMsgId)
  if (!stored) throw new Error(`send into room ${input.roomId}: repeated client_msg_id without a stored message`)
  return { status: 200, message: await withDetails(context.db, stored, input.senderId) }
}

export interface ListInput {
  roomId: string
  userId: string
  limit: number
  beforeSeq?: number
  afterSeq?: number
}

export interface ListResult {
  messages: Message[]
  /** `before_seq` of the page of older messages, when there are any. */
  prevBeforeSeq?: number
  /** `after_seq` of the page of newer messages, when there are any. */
  nextAfterSeq?: number
}

/** A page of the room's messages, each with its reaction counts and the caller's reaction (one query for all). */
export async function listMessages(context: MessagesContext, input: ListInput): Promise<ListResult> {
  await requireParticipant(context.db, input.roomId, input.userId)
  return listPage(context.db, { roomId: input.roomId }, input)
}

/**
 * A page of a thread's replies, paged by seq exactly as the room is. The id
 * of a reply lists its root's thread (the one it is in); a message id of
 * another room is 404 `message_not_found`.
 */
export async function listThread(context: MessagesContext, input: ListInput & { messageId: string }): Promise<ListResult> {
  const { db } = context
  await requireParticipant(db, input.roomId, input.userId)
  const message = await findMessageInRoom(db, input.roomId, input.messageId)
  if (!message) throw messagesErrors.messageNotFound()
  return listPage(db, { roomId: input.roomId, threadRootId: message.reply_to ?? message.id }, input)
}

async function listPage(db: Kysely<Database>, scope: MessageScope, input: ListInput): Promise<ListResult> {
  const { userId, limit, beforeSeq, afterSeq } = input
  if (beforeSeq !== undefined && afterSeq !== undefined) throw messagesErrors.conflictingPaging()
  const page: MessagePage =
    afterSeq !== undefined ? { kind: 'after', seq: afterSeq } : beforeSeq !== undefined ? { kind: 'before', seq: beforeSeq } : { kind: 'latest' }
  const { messages, more } = await listMessagePage(db, scope, page, limit, userId)
  const result: ListResult = { messages }
  const first = messages[0]?.seq
  const last = messages.at(-1)?.seq
  if (page.kind === 'after') {
    if (more && last !== undefined) result.nextAfterSeq = last
    // Older messages are those at or below the cursor.
    if (page.seq > 0 && (await hasMessagesBeyond(db, scope, 'at_or_below', page.seq))) result.prevBeforeSeq = first ?? page.seq + 1
  } else {
    if (more && first !== undefined) result.prevBeforeSeq = first
    if (page.kind === 'before' && (await hasMessagesBeyond(db, scope, 'at_or_above', page.seq))) result.nextAfterSeq = last ?? page.seq - 1
  }
  return result
}

export interface ChangeInput {
  roomId: string
  messageId: string
  userId: string
  requestId?: string
}

/** Checks, in the order of api.md, that `userId` may change the message, with the room locked. */
async function lockOwnMessage(trx: Kysely<Database>, input: ChangeInput): Promise<Message> {
  await requireParticipant(trx, input.roomId, input.userId, { lock: true })
  const message = await findMessageInRoom(trx, input.roomId, input.messageId)
  if (!message) throw messagesErrors.messageNotFound()
  if (message.sender.id !== input.userId) throw messagesErrors.notSender()
  if (message.deleted) throw messagesErrors.messageDeleted()
  return message
}

/**
 * Replaces the text of one's own message and publishes `message.updated` with
 * the room's next seq. Mentions are read again from the new text and the
 * edit's own `mentions` (ids given with the send are not kept unless given
 * again); users mentioned now and not before get a notice after commit.
 */
export async function editMessage(context: MessagesContext, input: ChangeInput & { text: string; mentions?: readonly string[] }): Promise<Message> {
  const { db, publisher } = context
  const { message, event, added } = await db.transaction().execute(async (trx) => {
    const stored = await lockOwnMessage(trx, input)
    checkText(input.text, context.maxTextChars)
    const editedAt = new Date()
    await updateMessageText(trx, stored.id, input.text, editedAt)
    const added = await replaceMentions(
      trx,
      { id: stored.id, roomId: input.roomId, seq: stored.seq, senderId: input.userId },
      mentionTokens(input.text),
      input.mentions ?? []
    )
    const message = await withDetails(trx, { ...stored, text: input.text, edited_at: editedAt.toISOString() }, input.userId)
    // The event goes to every reader: my_reaction is per reader, so null there.
    const event = await appendRoomEvent(trx, input.roomId, 'message.updated', { message: { ...message, my_reaction: null } })
    return { message, event, added }
  })
  await publisher.publish([event], input.requestId)
  context.notifyMentions(message, added)
  return message
}

/** Turns one's own message into a tombstone and publishes `message.deleted` with the room's next seq. */
export async function deleteMessage(context: MessagesContext, input: ChangeInput): Promise<void> {
  const { db, publisher } = context
  const event = await db.transaction().execute(async (trx) => {
    const stored = await lockOwnMessage(trx, input)
    await markMessageDeleted(trx, stored.id, new Date())
    await deleteMentions(trx, stored.id)
    return appendRoomEvent(trx, input.roomId, 'message.deleted', { message_id: stored.id })
  })
  await publisher.publish([event], input.requestId)
}
