import { createHash } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { Database } from '@chat/db'
import type { ProcessedAvatar } from './image.js'

export interface StoredAvatar {
  roomId: string
  contentType: string
  width: number
  height: number
  size: number
  etag: string
  updatedAt: Date
}

export async function upsertAvatar(trx: Transaction<Database>, roomId: string, avatar: ProcessedAvatar): Promise<StoredAvatar> {
  const etag = `"${createHash('sha256').update(avatar.bytes).digest('base64url').slice(0, 27)}"`
  const values = {
    room_id: roomId,
    bytes: avatar.bytes,
    content_type: avatar.contentType,
    width: avatar.width,
    height: avatar.height,
    size: avatar.bytes.length,
    etag,
    updated_at: new Date()
  }
  await trx
    .insertInto('room_avatars')
    .values(values)
    .onConflict((conflict) => conflict.column('room_id').doUpdateSet({ ...values, room_id: undefined }))
    .execute()
  return { roomId, contentType: values.content_type, width: values.width, height: values.height, size: values.size, etag, updatedAt: values.updated_at }
}

export async function findAvatar(db: Kysely<Database>, roomId: string) {
  return db.selectFrom('room_avatars').select(['bytes', 'content_type', 'etag']).where('room_id', '=', roomId).executeTakeFirst()
}

export async function deleteAvatar(trx: Transaction<Database>, roomId: string): Promise<boolean> {
  const result = await trx.deleteFrom('room_avatars').where('room_id', '=', roomId).executeTakeFirst()
  return result.numDeletedRows > 0n
}

/** True when an If-None-Match header names this ETag (or is `*`). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false
  return ifNoneMatch
    .split(',')
    .map((candidate) => candidate.trim().replace(/^W\//, ''))
    .some((candidate) => candidate === etag || candidate === '*')
}
