import type { SearchHit } from '@chat/contracts'
import { requireParticipant } from '@chat/room-events'
import { messagesErrors } from './errors.js'
import type { MessagesContext } from './messages.service.js'
import { findHits, toSearchQuery } from './search.repository.js'

export interface SearchInput {
  userId: string
  q: string
  roomId?: string
  limit: number
  before?: string
}

/** A page of search hits; `next` is the `before` of the following page, when there is one. */
export async function searchMessages(context: Pick<MessagesContext, 'db'>, input: SearchInput): Promise<{ hits: SearchHit[]; next?: string }> {
  const { db } = context
  if (input.q.trim() === '') throw messagesErrors.invalidSearch('must not be blank')
  if (input.roomId !== undefined) await requireParticipant(db, input.roomId, input.userId)
  const query = await toSearchQuery(db, input.q)
  if (query === undefined) throw messagesErrors.invalidSearch('holds no word to search for')
  const { hits, more } = await findHits(db, { viewerId: input.userId, query, roomId: input.roomId, beforeId: input.before, limit: input.limit })
  const last = hits.at(-1)
  return more && last ? { hits, next: last.message.id } : { hits }
}
