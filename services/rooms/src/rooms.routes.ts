import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { callerOf } from '@chat/service-kit'
import { addUsersSchema, createRoomSchema, getRoomSchema, leaveRoomSchema, listRoomsSchema, markReadSchema, renameRoomSchema } from './rooms.schemas.js'
import { addUsers, createRoom, getRoom, leaveRoom, listRooms, markRead, updateRoom, type RoomsContext } from './rooms.service.js'

export const roomsRoutes: FastifyPluginAsyncTypebox<RoomsContext> = async (app, context) => {
  app.get('/chatrooms', { schema: listRoomsSchema, onRequest: app.authenticate }, async (request, reply) => {
    const limit = request.query.limit ?? 100
    const page = await listRooms(context, { userId: callerOf(request).id, limit, before: request.query.before })
    if (page.next) reply.header('link', `</chatrooms/?limit=${limit}&before=${page.next}>; rel="next"`)
    return page.rooms
  })

  app.post('/chatrooms', { schema: createRoomSchema, onRequest: app.authenticate }, async (request, reply) => {
    const room = await createRoom(context, {
      userId: callerOf(request).id,
      name: request.body.name,
      participantNames: request.body.participants_display_names ?? [],
      requestId: request.id
    })
    request.log.info({ room_id: room.id, participants: room.participants.length }, 'room created')
    return reply.code(201).send(room)
  })

  app.get('/chatrooms/:room_id', { schema: getRoomSchema, onRequest: app.authenticate }, async (request) => {
    return getRoom(context, { roomId: request.params.room_id, userId: callerOf(request).id })
  })

  app.patch('/chatrooms/:room_id', { schema: renameRoomSchema, onRequest: app.authenticate }, async (request) => {
    return updateRoom(context, {
      roomId: request.params.room_id,
      userId: callerOf(request).id,
      name: request.body.name,
      membersCanAdd: request.body.members_can_add,
      requestId: request.id
    })
  })

  app.post('/chatrooms/:room_id/add_user', { schema: addUsersSchema, onRequest: app.authenticate }, async (request) => {
    return addUsers(context, {
      roomId: request.params.room_id,
      userId: callerOf(request).id,
      displayNames: request.body.user_display_names,
      requestId: request.id
    })
  })

  app.delete('/chatrooms/:room_id/participants/me', { schema: leaveRoomSchema, onRequest: app.authenticate }, async (request, reply) => {
    await leaveRoom(context, { roomId: request.params.room_id, userId: callerOf(request).id, requestId: request.id })
    return reply.code(204).send(null)
  })

  app.put('/chatrooms/:room_id/read', { schema: markReadSchema, onRequest: app.authenticate }, async (request) => {
    return markRead(context, { roomId: request.params.room_id, userId: callerOf(request).id, seq: request.body.seq })
  })
}
