import type { Kysely, Transaction } from 'kysely'
import type { Reaction } from '@chat/contracts'
import type { Database } from '@chat/db'
import { appendRoomEvent, requireParticipant, type RoomEventPublisher, type StoredRoomEvent } from '@chat/room-events'
import { findUser } from '@chat/service-kit'
import { reactionsErrors } from './errors.js'
import type { ReactionList } from './reaction-list.js'
import { deleteReaction, findOwnReaction, findReactionTarget, listMessageReactions, reactionCounts, upsertReaction } from './reactions.repository.js'

/** What the operations of the reactions service need. */
export interface ReactionsContext {
  db: Kysely<Database>
  publisher: RoomEventPublisher
  reactionList: ReactionList
}

export interface ReactionInput {
  messageId: string
  userId: string
  requestId?: string
}

/**
 * The checks of api.md, in its order: the message exists (404), the caller
 * participates in its room (403), the message is not deleted (404, after the
 * 403 so that an outsider learns nothing of it). With `lock`, inside a
 * transaction, the room row is locked before the message is looked at again,
 * so a delete of the message cannot slip in before commit.
 */
async function requireLiveMessage(db: Kysely<Database>, messageId: string, userId: string, options: { lock?: boolean } = {}): Promise<{ roomId: string }> {
  const target = await findReactionTarget(db, messageId)
  if (!target) throw reactionsErrors.messageNotFound()
  await requireParticipant(db, target.roomId, userId, options)
  const current = options.lock ? await findReactionTarget(db, messageId) : target
  if (!current || current.deleted) throw reactionsErrors.messageNotFound()
  return { roomId: target.roomId }
}

/** Every reaction on a message, for a participant of its room. */
export async function listReactions(context: ReactionsContext, input: ReactionInput): Promise<Reaction[]> {
  await requireLiveMessage(context.db, input.messageId, input.userId)
  return listMessageReactions(context.db, input.messageId)
}

export interface SetResult {
  /** 201 for a new reaction, 200 for a replaced one or the same one again. */
  status: 201 | 200
  reaction: Reaction
}

type SetOutcome = SetResult & { event?: StoredRoomEvent }

/**
 * Adds or replaces the caller's reaction and publishes `reaction.updated`
 * after commit. The same reaction again changes nothing, takes no seq and
 * publishes nothing.
 */
export async function setReaction(context: ReactionsContext, input: ReactionInput & { reaction: string }): Promise<SetResult> {
  const { db, publisher, reactionList } = context
  const { messageId, userId, reaction } = input
  const outcome = await db.transaction().execute(async (trx): Promise<SetOutcome> => {
    const { roomId } = await requireLiveMessage(trx, messageId, userId, { lock: true })
    if (!reactionList.has(reaction)) throw reactionsErrors.invalidReaction(reactionList.names)
    // Under the room lock: no other change to this room's reactions runs until commit.
    const existing = await findOwnReaction(trx, messageId, userId)
    if (existing?.reaction === reaction) return { status: 200, reaction: existing }
    const user = await findUser(trx, userId)
    if (!user) throw reactionsErrors.notAMember()
    const stored = await upsertReaction(trx, { messageId, user, reaction, at: new Date() })
    const event = await recordReactionUpdated(trx, roomId, { message_id: messageId, user, reaction })
    return { status: existing ? 200 : 201, reaction: stored, event }
  })
  if (outcome.event) await publisher.publish([outcome.event], input.requestId)
  return { status: outcome.status, reaction: outcome.reaction }
}

/** Removes the caller's reaction and publishes `reaction.updated` with `reaction: null` after commit. */
export async function removeReaction(context: ReactionsContext, input: ReactionInput): Promise<void> {
  const { db, publisher } = context
  const { messageId, userId } = input
  const event = await db.transaction().execute(async (trx) => {
    const { roomId } = await requireLiveMessage(trx, messageId, userId, { lock: true })
    const user = await findUser(trx, userId)
    if (!user) throw reactionsErrors.notAMember()
    if (!(await deleteReaction(trx, messageId, userId))) throw reactionsErrors.reactionNotFound()
    return recordReactionUpdated(trx, roomId, { message_id: messageId, user, reaction: null })
  })
  await publisher.publish([event], input.requestId)
}

/** Records `reaction.updated` with the message's counts as they are after the change, in the transaction of the change. */
async function recordReactionUpdated(
  trx: Transaction<Database>,
  roomId: string,
  change: { message_id: string; user: Reaction['user']; reaction: string | null }
): Promise<StoredRoomEvent> {
  const reactions = await reactionCounts(trx, change.message_id)
  return appendRoomEvent(trx, roomId, 'reaction.updated', { ...change, reactions })
}
