import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely, Transaction } from 'kysely'
import { toUser } from '@chat/contracts'
import type { Database } from '@chat/db'
import { appendRoomEvent, requireParticipant, type RoomEventPublisher, type StoredRoomEvent } from '@chat/room-events'
import { callerOf, findUser } from '@chat/service-kit'
import { roomErrors } from './errors.js'
import {
  addParticipants,
  advanceReadPosition,
  decodeRoomCursor,
  encodeRoomCursor,
  listRooms,
  insertRoom,
  loadRooms,
  removeParticipant,
  renameRoom,
  resolveDisplayNames,
  unreadCounts
} from './rooms.repository.js'
import { addUsersSchema, createRoomSchema, getRoomSchema, leaveRoomSchema, listRoomsSchema, markReadSchema, renameRoomSchema } from './rooms.schemas.js'

export interface RoomsRoutesOptions {
  db: Kysely<Database>
  publisher: RoomEventPublisher
}

/** Records `room.updated` with the room as it is now (including this event's seq). */
export async function appendRoomUpdated(trx: Transaction<Database>, roomId: string): Promise<StoredRoomEvent> {
  return appendRoomEvent(trx, roomId, 'room.updated', async () => {
    const [room] = await loadRooms(trx, { roomIds: [roomId] })
    if (!room) throw roomErrors.roomNotFound()
    return { room }
  })
}

export const roomsRoutes: FastifyPluginAsyncTypebox<RoomsRoutesOptions> = async (app, { db, publisher }) => {
  const loadOne = async (roomId: string, viewerId: string) => {
    const [room] = await loadRooms(db, { roomIds: [roomId] }, viewerId)
    if (!room) throw roomErrors.roomNotFound()
    return room
  }

  app.get('/chatrooms', { schema: listRoomsSchema, onRequest: app.authenticate }, async (request, reply) => {
    const limit = request.query.limit ?? 100
    const before = request.query.before === undefined ? undefined : decodeRoomCursor(request.query.before)
    if (request.query.before !== undefined && !before) throw roomErrors.invalidCursor()
    const page = await listRooms(db, callerOf(request).id, limit, before)
    if (page.next) reply.header('link', `</chatrooms/?limit=${limit}&before=${encodeRoomCursor(page.next)}>; rel="next"`)
    return page.rooms
  })

  app.post('/chatrooms', { schema: createRoomSchema, onRequest: app.authenticate }, async (request, reply) => {
    const caller = callerOf(request)
    const { name, participants_display_names: names = [] } = request.body
    if (name.trim() === '') throw roomErrors.blankName()
    const { users, notFound } = await resolveDisplayNames(db, names)
    if (notFound.length > 0) throw roomErrors.usersNotFound(notFound)
    const others = users.filter((user) => user.id !== caller.id)
    const { roomId, events } = await db.transaction().execute(async (trx) => {
      const roomId = await insertRoom(trx, name, caller.id)
      await addParticipants(trx, roomId, [{ id: caller.id, role: 'owner' }, ...others.map((user) => ({ id: user.id, role: 'member' as const }))])
      const events = others.length > 0 ? [await appendRoomEvent(trx, roomId, 'participants.added', { users: others.map(toUser) })] : []
      return { roomId, events }
    })
    await publisher.publish(events, request.id)
    request.log.info({ room_id: roomId, participants: others.length + 1 }, 'room created')
    return reply.code(201).send(await loadOne(roomId, caller.id))
  })

  app.get('/chatrooms/:room_id', { schema: getRoomSchema, onRequest: app.authenticate }, async (request) => {
    const caller = callerOf(request)
    await requireParticipant(db, request.params.room_id, caller.id)
    return loadOne(request.params.room_id, caller.id)
  })

  app.patch('/chatrooms/:room_id', { schema: renameRoomSchema, onRequest: app.authenticate }, async (request) => {
    const caller = callerOf(request)
    const { room_id: roomId } = request.params
    const event = await db.transaction().execute(async (trx) => {
      await requireParticipant(trx, roomId, caller.id, { lock: true })
      if (request.body.name.trim() === '') throw roomErrors.blankName()
      await renameRoom(trx, roomId, request.body.name)
      return appendRoomUpdated(trx, roomId)
    })
    await publisher.publish([event], request.id)
    return loadOne(roomId, caller.id)
  })

  app.post('/chatrooms/:room_id/add_user', { schema: addUsersSchema, onRequest: app.authenticate }, async (request) => {
    const caller = callerOf(request)
    const { room_id: roomId } = request.params
    const events = await db.transaction().execute(async (trx) => {
      await requireParticipant(trx, roomId, caller.id, { lock: true })
      const { users, notFound } = await resolveDisplayNames(trx, request.body.user_display_names)
      if (notFound.length > 0) throw roomErrors.usersNotFound(notFound)
      const added = await addParticipants(trx, roomId, users.map((user) => ({ id: user.id, role: 'member' as const })))
      if (added.size === 0) return []
      return [await appendRoomEvent(trx, roomId, 'participants.added', { users: users.filter((user) => added.has(user.id)).map(toUser) })]
    })
    await publisher.publish(events, request.id)
    return loadOne(roomId, caller.id)
  })

  app.delete('/chatrooms/:room_id/participants/me', { schema: leaveRoomSchema, onRequest: app.authenticate }, async (request, reply) => {
    const caller = callerOf(request)
    const { room_id: roomId } = request.params
    const events = await db.transaction().execute(async (trx) => {
      await requireParticipant(trx, roomId, caller.id, { lock: true })
      const user = await findUser(trx, caller.id)
      if (!user || !(await removeParticipant(trx, roomId, caller.id))) return []
      return [await appendRoomEvent(trx, roomId, 'participants.removed', { users: [user] })]
    })
    await publisher.publish(events, request.id)
    return reply.code(204).send(null)
  })

  app.put('/chatrooms/:room_id/read', { schema: markReadSchema, onRequest: app.authenticate }, async (request) => {
    const caller = callerOf(request)
    const { room_id: roomId } = request.params
    await requireParticipant(db, roomId, caller.id)
    const lastReadSeq = await advanceReadPosition(db, roomId, caller.id, request.body.seq)
    // The caller left between the check and the update.
    if (lastReadSeq === undefined) throw roomErrors.notAMember()
    const unread = await unreadCounts(db, caller.id, [roomId])
    return { last_read_seq: lastReadSeq, unread_count: unread.get(roomId) ?? 0 }
  })
}
