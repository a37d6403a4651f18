import multipart from '@fastify/multipart'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { AppError, callerOf, etagMatches } from '@chat/service-kit'
import { deleteAvatarSchema, getAvatarSchema, setAvatarSchema } from './avatars.schemas.js'
import { getAvatar, removeAvatar, setAvatar, type AvatarsContext } from './avatars.service.js'
import { roomErrors } from './errors.js'

export interface AvatarsRoutesOptions extends AvatarsContext {
  maxUploadBytes: number
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
  const { maxUploadBytes, ...context } = options
  await app.register(multipart, {
    limits: { fileSize: maxUploadBytes, files: 3, fields: 5, parts: 8, fieldSize: 1024, headerPairs: 50 },
    throwFileSizeLimit: true
  })

  app.patch('/chatrooms/:room_id/avatar', { schema: setAvatarSchema, onRequest: app.authenticate }, async (request) => {
    const { room_id: roomId } = request.params
    const { avatar, uploadBytes } = await setAvatar(context, {
      roomId,
      userId: callerOf(request).id,
      requestId: request.id,
      readUpload: () => readAvatarPart(request)
    })
    request.log.info({ room_id: roomId, bytes_in: uploadBytes, bytes_out: avatar.size }, 'room avatar set')
    return avatar
  })

  app.get('/chatrooms/:room_id/avatar', { schema: getAvatarSchema, onRequest: app.authenticate }, async (request, reply) => {
    const avatar = await getAvatar(context, { roomId: request.params.room_id, userId: callerOf(request).id })
    reply.header('etag', avatar.etag).header('cache-control', 'private')
    if (etagMatches(request.headers['if-none-match'], avatar.etag)) return reply.code(304).send(null)
    return reply.type(avatar.contentType).send(avatar.bytes)
  })

  app.delete('/chatrooms/:room_id/avatar', { schema: deleteAvatarSchema, onRequest: app.authenticate }, async (request, reply) => {
    await removeAvatar(context, { roomId: request.params.room_id, userId: callerOf(request).id, requestId: request.id })
    return reply.code(204).send(null)
  })
}
