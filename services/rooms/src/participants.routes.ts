import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { callerOf } from '@chat/service-kit'
import { removeParticipantSchema, setParticipantRoleSchema } from './participants.schemas.js'
import { changeRole, removeFromRoom } from './participants.service.js'
import type { RoomsContext } from './rooms.service.js'

// `/participants/me` (leaving) is rooms.routes.ts's: a static segment wins over `:user_id`.
export const participantsRoutes: FastifyPluginAsyncTypebox<RoomsContext> = async (app, context) => {
  app.patch('/chatrooms/:room_id/participants/:user_id', { schema: setParticipantRoleSchema, onRequest: app.authenticate }, async (request) => {
    const { room_id: roomId, user_id: targetId } = request.params
    const room = await changeRole(context, { roomId, userId: callerOf(request).id, targetId, role: request.body.role, requestId: request.id })
    request.log.info({ room_id: roomId, target: targetId, role: request.body.role }, 'participant role set')
    return room
  })

  app.delete('/chatrooms/:room_id/participants/:user_id', { schema: removeParticipantSchema, onRequest: app.authenticate }, async (request, reply) => {
    const { room_id: roomId, user_id: targetId } = request.params
    await removeFromRoom(context, { roomId, userId: callerOf(request).id, targetId, requestId: request.id })
    request.log.info({ room_id: roomId, target: targetId }, 'participant removed')
    return reply.code(204).send(null)
  })
}
