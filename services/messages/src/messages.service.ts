import type { Kysely } from 'kysely'
import type { Message, RoomEventFrame } from '@chat/contracts'
import type { Database } from '@chat/db'
import { appendRoomEvent, requireParticipant, uuidv7, type RoomEventPublisher, type StoredRoomEvent } from '@chat/room-events'
import { messagesErrors } from './errors.js'
import {
  findMessageByClientMsgId,
  findMessageInRoom,
  hasMessagesBeyond,
  isClientMsgIdConflict,
  listMessagePage,
  lockRoomForSend,
  markMessageDeleted,
  updateMessageText,
  withReactions,
  writeMessage,
  type MessagePage
} from './messages.repository.js'

/** What the operations of the messages service need; shared by the HTTP routes and the NATS responder. */
export interface MessagesContext {
  db: Kysely<Database>
  publisher: RoomEventPublisher
  /** Longest text after trimming, in code points. */
  maxTextChars: number
}

export interface SendInput {
  roomId: string
  senderId: string
  text: string
  clientMsgId?: string
  requestId?: string
}

export interface SendResult {
  status: 201 | 200
  message: Message
}

/** Text is valid when it is not blank and at most `maxChars` code points long once trimmed. It is stored untrimmed. */
export function checkText(text: string, maxChars: number): void {
  const trimmed = text.trim()
  if (trimmed === '') throw messagesErrors.invalidText('must not be blank')
  // Counting code points only matters near the limit; .length is an upper bound.
  if (trimmed.length > maxChars && [...trimmed].length > maxChars) {
    throw messagesErrors.invalidText(`must be at most ${maxChars} characters after trimming`)
  }
}

type SendOutcome = { kind: 'created'; message: Message; event: StoredRoomEvent } | { kind: 'repeat' }

/**
 * Stores a message and publishes `message.created` after commit. A repeat of
 * `clientMsgId` (by the same sender, in the same room) returns the stored
 * message with 200, takes no seq and publishes nothing, also when the
 * repeats race each other.
 */
export async function sendMessage(context: MessagesContext, input: SendInput): Promise<SendResult> {
  const { db, publisher } = context
  const { roomId, senderId, text } = input
  const clientMsgId = input.clientMsgId ?? null
  let outcome: SendOutcome
  try {
    outcome = await db.transaction().execute(async (trx): Promise<SendOutcome> => {
      const room = await lockRoomForSend(trx, roomId, senderId)
      if (!room) throw messagesErrors.roomNotFound()
      if (!room.sender) throw messagesErrors.notAMember()
      // The operation's own rules come after 404 and 403 (api.md's order of checks).
      checkText(text, context.maxTextChars)
      // The room row is locked: nobody else takes a seq of this room until commit.
      const seq = room.lastSeq + 1
      const createdAt = new Date()
      const message: Message = {
        id: uuidv7(createdAt.getTime()),
        room_id: roomId,
        seq,
        sender: room.sender,
        text,
        client_msg_id: clientMsgId,
        created_at: createdAt.toISOString(),
        edited_at: null,
        deleted: false,
        reactions: {},
        my_reaction: null
      }
      const frame: Extract<RoomEventFrame, { type: 'message.created' }> = { type: 'message.created', room_id: roomId, seq, message }
      const payload = JSON.stringify(frame)
      const written = await writeMessage(trx, { messageId: message.id, roomId, senderId, text, clientMsgId, createdAt, payload })
      if (written.priorId) return { kind: 'repeat' }
      if (written.seq !== seq) throw new Error(`send into room ${roomId}: expected seq ${seq}, got ${String(written.seq)}`)
      return { kind: 'created', message, event: { roomId, seq, type: 'message.created', payload: Buffer.from(payload), createdAt } }
    })
  } catch (error) {
    // The room lock makes this unreachable in practice; the unique key is the last word.
    if (clientMsgId === null || !isClientMsgIdConflict(error)) throw error
    outcome = { kind: 'repeat' }
  }
  if (outcome.kind === 'created') {
    await publisher.publish([outcome.event], input.requestId)
    return { status: 201, message: outcome.message }
  }
  const stored = clientMsgId === null ? undefined : await findMessageByClientMsgId(db, roomId, senderId, clientMsgId)
  if (!stored) throw new Error(`send into room ${roomId}: repeated client_msg_id without a stored message`)
  return { status: 200, message: await withReactions(db, stored, senderId) }
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
  const { db } = context
  const { roomId, userId, limit, beforeSeq, afterSeq } = input
  await requireParticipant(db, roomId, userId)
  if (beforeSeq !== undefined && afterSeq !== undefined) throw messagesErrors.conflictingPaging()
  const page: MessagePage =
    afterSeq !== undefined ? { kind: 'after', seq: afterSeq } : beforeSeq !== undefined ? { kind: 'before', seq: beforeSeq } : { kind: 'latest' }
  const { messages, more } = await listMessagePage(db, roomId, page, limit, userId)
  const result: ListResult = { messages }
  const first = messages[0]?.seq
  const last = messages.at(-1)?.seq
  if (page.kind === 'after') {
    if (more && last !== undefined) result.nextAfterSeq = last
    // Older messages are those at or below the cursor.
    if (page.seq > 0 && (await hasMessagesBeyond(db, roomId, 'at_or_below', page.seq))) result.prevBeforeSeq = first ?? page.seq + 1
  } else {
    if (more && first !== undefined) result.prevBeforeSeq = first
    if (page.kind === 'before' && (await hasMessagesBeyond(db, roomId, 'at_or_above', page.seq))) result.nextAfterSeq = last ?? page.seq - 1
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

/** Replaces the text of one's own message and publishes `message.updated` with the room's next seq. */
export async function editMessage(context: MessagesContext, input: ChangeInput & { text: string }): Promise<Message> {
  const { db, publisher } = context
  const { message, event } = await db.transaction().execute(async (trx) => {
    const stored = await lockOwnMessage(trx, input)
    checkText(input.text, context.maxTextChars)
    const editedAt = new Date()
    await updateMessageText(trx, stored.id, input.text, editedAt)
    const message = await withReactions(trx, { ...stored, text: input.text, edited_at: editedAt.toISOString() }, input.userId)
    // The event goes to every reader: my_reaction is per reader, so null there.
    const event = await appendRoomEvent(trx, input.roomId, 'message.updated', { message: { ...message, my_reaction: null } })
    return { message, event }
  })
  await publisher.publish([event], input.requestId)
  return message
}

/** Turns one's own message into a tombstone and publishes `message.deleted` with the room's next seq. */
export async function deleteMessage(context: MessagesContext, input: ChangeInput): Promise<void> {
  const { db, publisher } = context
  const event = await db.transaction().execute(async (trx) => {
    const stored = await lockOwnMessage(trx, input)
    await markMessageDeleted(trx, stored.id, new Date())
    return appendRoomEvent(trx, input.roomId, 'message.deleted', { message_id: stored.id })
  })
  await publisher.publish([event], input.requestId)
}
