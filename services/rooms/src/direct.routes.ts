import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { callerOf } from '@chat/service-kit'
import { openDirectRoomSchema } from './direct.schemas.js'
import { openDirectRoom } from './direct.service.js'
import type { RoomsContext } from './rooms.service.js'

export const directRoutes: FastifyPluginAsyncTypebox<RoomsContext> = async (app, context) => {
  app.post('/direct', { schema: openDirectRoomSchema, onRequest: app.authenticate }, async (request, reply) => {
    const { room, created } = await openDirectRoom(context, { userId: callerOf(request).id, displayName: request.body.display_name, requestId: request.id })
    if (created) request.log.info({ room_id: room.id }, 'direct room created')
    return reply.code(created ? 201 : 200).send(room)
  })
}
