import multipart from '@fastify/multipart'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import type { Avatar } from '@chat/contracts'
import type { Database } from '@chat/db'
import { requireParticipant, type RoomEventPublisher } from '@chat/room-events'
import { AppError, callerOf } from '@chat/service-kit'
import { roomErrors } from './errors.js'
import { deleteAvatar, etagMatches, findAvatar, upsertAvatar } from './avatars.repository.js'
import { deleteAvatarSchema, getAvatarSchema, setAvatarSchema } from './avatars.schemas.js'
import { defaultAvatarLimits, processAvatar, type AvatarLimits } from './image.js'
import { avatarUrl } from './rooms.repository.js'
import { appendRoomUpdated } from './rooms.routes.js'

export interface AvatarsRoutesOptions {
  db: Kysely<Database>
  publisher: RoomEventPublisher
  maxUploadBytes: number
  imageLimits?: AvatarLimits
  concurrentDecodes?: number
}

/** Runs at most `slots` tasks at once; the others wait in order. */
function createSemaphore(slots: number) {
  let free = slots
  const waiting: Array<() => void> = []
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (free > 0) free -= 1
      else await new Promise<void>((resolve) => waiting.push(resolve))
      try {
        return await task()
      } finally {
        const next = waiting.shift()
        if (next) next()
        else free += 1
      }
    }
  }
}

/**
 * The bytes of the `avatar` file part. Other parts are skipped; a body that
 * is not well-formed multipart is the client's mistake (400), and one over
 * the size limit a 413.
 */
async function readAvatarPart(request: FastifyRequest): Promise<Buffer | undefined> {
  let upload: Buffer | undefined
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue
      if (part.fieldname !== 'avatar' || upload) {
        part.file.resume()
        continue
      }
      upload = await part.toBuffer()
    }
  } catch (error) {
    if (error instanceof AppError || (error as { statusCode?: number }).statusCode === 413) throw error
    if ((error as { code?: string }).code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') throw error
    request.log.info({ err: error }, 'malformed multipart body')
    throw roomErrors.malformedMultipart()
  }
  return upload
}

export const avatarsRoutes: FastifyPluginAsyncTypebox<AvatarsRoutesOptions> = async (app, options) => {
  const { db, publisher, maxUploadBytes } = options
  const imageLimits = options.imageLimits ?? defaultAvatarLimits
  // Decoding is the memory-hungry step (up to 4 bytes a pixel): at most two at a time per process.
  const decoding = createSemaphore(options.concurrentDecodes ?? 2)
  await app.register(multipart, {
    limits: { fileSize: maxUploadBytes, files: 3, fields: 5, parts: 8, fieldSize: 1024, headerPairs: 50 },
    throwFileSizeLimit: true
  })

  app.patch('/chatrooms/:room_id/avatar', { schema: setAvatarSchema, onRequest: app.authenticate }, async (request): Promise<Avatar> => {
    const caller = callerOf(request)
    const { room_id: roomId } = request.params
    // Membership first: an outsider's upload is never read.
    await requireParticipant(db, roomId, caller.id)
    const upload = await readAvatarPart(request)
    if (!upload || upload.length === 0) throw roomErrors.avatarMissing()
    const image = await decoding.run(() => processAvatar(upload, imageLimits))
    const { stored, event } = await db.transaction().execute(async (trx) => {
      await requireParticipant(trx, roomId, caller.id, { lock: true })
      const stored = await upsertAvatar(trx, roomId, image)
      return { stored, event: await appendRoomUpdated(trx, roomId) }
    })
    await publisher.publish([event], request.id)
    request.log.info({ room_id: roomId, bytes_in: upload.length, bytes_out: stored.size }, 'room avatar set')
    return {
      room_id: roomId,
      avatar_url: avatarUrl(roomId, stored.etag) ?? '',
      content_type: stored.contentType,
      width: stored.width,
      height: stored.height,
      size: stored.size,
      etag: stored.etag,
      updated_at: stored.updatedAt.toISOString()
    }
  })

  app.get('/chatrooms/:room_id/avatar', { schema: getAvatarSchema, onRequest: app.authenticate }, async (request, reply) => {
    const caller = callerOf(request)
    await requireParticipant(db, request.params.room_id, caller.id)
    const avatar = await findAvatar(db, request.params.room_id)
    if (!avatar) throw roomErrors.avatarNotSet()
    reply.header('etag', avatar.etag).header('cache-control', 'private')
    if (etagMatches(request.headers['if-none-match'], avatar.etag)) return reply.code(304).send(null)
    return reply.type(avatar.content_type).send(Buffer.from(avatar.bytes))
  })

  app.delete('/chatrooms/:room_id/avatar', { schema: deleteAvatarSchema, onRequest: app.authenticate }, async (request, reply) => {
    const caller = callerOf(request)
    const { room_id: roomId } = request.params
    const event = await db.transaction().execute(async (trx) => {
      await requireParticipant(trx, roomId, caller.id, { lock: true })
      if (!(await deleteAvatar(trx, roomId))) throw roomErrors.avatarNotSet()
      return appendRoomUpdated(trx, roomId)
    })
    await publisher.publish([event], request.id)
    return reply.code(204).send(null)
  })
}
