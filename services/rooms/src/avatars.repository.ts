import type { Kysely, Transaction } from 'kysely'
import type { Avatar } from '@chat/contracts'
import type { Database } from '@chat/db'
import { strongEtag } from '@chat/service-kit'
import type { ProcessedAvatar } from './image.js'

/** The stored image of a room's avatar, as `GET /chatrooms/:room_id/avatar/` sends it. */
export interface AvatarImage {
  bytes: Buffer
  contentType: string
  etag: string
}

/** The avatar URL of a room, versioned by its ETag so that clients refetch when it changes. */
export function avatarUrl(roomId: string, etag: string | null): string | null {
  return etag === null ? null : `/chatrooms/${roomId}/avatar/?v=${etag.replaceAll('"', '')}`
}

/** Stores the room's avatar in place of any earlier one; what the API shows of it. */
export async function upsertAvatar(trx: Transaction<Database>, roomId: string, avatar: ProcessedAvatar): Promise<Avatar> {
  const values = {
    room_id: roomId,
    bytes: avatar.bytes,
    content_type: avatar.contentType,
    width: avatar.width,
    height: avatar.height,
    size: avatar.bytes.length,
    etag: strongEtag(avatar.bytes),
    updated_at: new Date()
  }
  await trx
    .insertInto('room_avatars')
    .values(values)
    .onConflict((conflict) => conflict.column('room_id').doUpdateSet({ ...values, room_id: undefined }))
    .execute()
  return {
    room_id: roomId,
    avatar_url: avatarUrl(roomId, values.etag) ?? '',
    content_type: values.content_type,
    width: values.width,
    height: values.height,
    size: values.size,
    etag: values.etag,
    updated_at: values.updated_at.toISOString()
  }
}

export async function findAvatar(db: Kysely<Database>, roomId: string): Promise<AvatarImage | undefined> {
  const row = await db.selectFrom('room_avatars').select(['bytes', 'content_type', 'etag']).where('room_id', '=', roomId).executeTakeFirst()
  return row && { bytes: Buffer.from(row.bytes), contentType: row.content_type, etag: row.etag }
}

export async function deleteAvatar(trx: Transaction<Database>, roomId: string): Promise<boolean> {
  const result = await trx.deleteFrom('room_avatars').where('room_id', '=', roomId).executeTakeFirst()
  return result.numDeletedRows > 0n
}
