import type { Kysely } from 'kysely'
import { limits, type Block, type Me, type RoomsInvite } from '@chat/contracts'
import type { Database } from '@chat/db'
import { errors } from '@chat/service-kit'
import { deleteBlock, findMe, insertBlock, listBlocks, setRoomsInvite, userExists } from './consent.repository.js'
import { identityErrors } from './errors.js'

/** What the consent settings need. */
export interface ConsentContext {
  db: Kysely<Database>
  /** Users one user may block; `limits.blocksPerUser` by default. */
  maxBlocks?: number
}

/** The caller with their settings; 401 when the account of a valid token is gone. */
export async function getMe(context: ConsentContext, userId: string): Promise<Me> {
  const me = await findMe(context.db, userId)
  if (!me) throw errors.unauthenticated('The account of this token no longer exists')
  return me
}

export async function updateMe(context: ConsentContext, userId: string, changes: { roomsInvite?: RoomsInvite }): Promise<Me> {
  if (changes.roomsInvite !== undefined) await setRoomsInvite(context.db, userId, changes.roomsInvite)
  return getMe(context, userId)
}

/** Blocks a user (again: the same block); 404 for no such user, 409 past the limit. */
export async function blockUser(context: ConsentContext, userId: string, blockedId: string): Promise<Block> {
  if (blockedId === userId) throw identityErrors.blockSelf()
  const max = context.maxBlocks ?? limits.blocksPerUser
  const block = await insertBlock(context.db, userId, blockedId, max)
  if (block) return block
  if (!(await userExists(context.db, blockedId))) throw identityErrors.userNotFound()
  throw identityErrors.tooManyBlocks(max)
}

/** Lifts a block; nothing to lift is fine (204 either way). */
export async function unblockUser(context: ConsentContext, userId: string, blockedId: string): Promise<void> {
  await deleteBlock(context.db, userId, blockedId)
}

export async function getBlocks(context: ConsentContext, userId: string): Promise<Block[]> {
  return listBlocks(context.db, userId)
}
