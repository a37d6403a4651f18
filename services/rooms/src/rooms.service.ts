import type { Kysely, Transaction } from 'kysely'
import type { Room } from '@chat/contracts'
import type { Database } from '@chat/db'
import { appendRoomEvent, requireParticipant, type RoomEventPublisher, type StoredRoomEvent } from '@chat/room-events'
import { findUser } from '@chat/service-kit'
import type { CreatorNotifier } from './join-notices.js'
import { roomErrors } from './errors.js'
import {
  addParticipants,
  advanceReadPosition,
  decodeRoomCursor,
  encodeRoomCursor,
  findRoomKind,
  insertRoom,
  listRoomPage,
  loadRooms,
  removeParticipant,
  resolveDisplayNames,
  unreadCounts,
  unreadMentions,
  updateRoomName
} from './rooms.repository.js'

/** What the operations of the rooms service need. */
export interface RoomsContext {
  db: Kysely<Database>
  publisher: RoomEventPublisher
  /** After a room is made: its creator's other devices hear of it. */
  notifyCreator: CreatorNotifier
}

export interface RoomInput {
  roomId: string
  userId: string
  requestId?: string
}

/** Records `room.updated` with the room as it is now (including this event's seq). */
export async function appendRoomUpdated(trx: Transaction<Database>, roomId: string): Promise<StoredRoomEvent> {
  return appendRoomEvent(trx, roomId, 'room.updated', async () => {
    const [room] = await loadRooms(trx, { roomIds: [roomId] })
    if (!room) throw roomErrors.roomNotFound()
    return { room }
  })
}

/**
 * Refuses a change a direct room does not take (add_user, leave, rename,
 * avatar): 409 `direct_room`. Call it after the participant check, so that an
 * outsider still learns nothing beyond 403.
 */
export async function refuseDirectRoom(db: Kysely<Database>, roomId: string): Promise<void> {
  if ((await findRoomKind(db, roomId)) === 'direct') throw roomErrors.directRoom()
}

/** A room as `viewerId` sees it (their read position and unread count). */
async function loadRoom(db: Kysely<Database>, roomId: string, viewerId: string): Promise<Room> {
  const [room] = await loadRooms(db, { roomIds: [roomId] }, viewerId)
  if (!room) throw roomErrors.roomNotFound()
  return room
}

/** A page of the caller's rooms, most recent activity first; `before` and `next` are opaque cursors. */
export async function listRooms(
  context: RoomsContext,
  input: { userId: string; limit: number; before?: string }
): Promise<{ rooms: Room[]; next?: string }> {
  const before = input.before === undefined ? undefined : decodeRoomCursor(input.before)
  if (input.before !== undefined && !before) throw roomErrors.invalidCursor()
  const page = await listRoomPage(context.db, input.userId, input.limit, before)
  return page.next ? { rooms: page.rooms, next: encodeRoomCursor(page.next) } : { rooms: page.rooms }
}

/**
 * Creates a room with the caller as owner and the named users as members,
 * and publishes `participants.added` when there are any. Any unknown name
 * creates nothing.
 */
export async function createRoom(
  context: RoomsContext,
  input: { userId: string; name: string; participantNames: readonly string[]; requestId?: string }
): Promise<Room> {
  const { db, publisher } = context
  if (input.name.trim() === '') throw roomErrors.blankName()
  const { users, notFound } = await resolveDisplayNames(db, input.participantNames)
  if (notFound.length > 0) throw roomErrors.usersNotFound(notFound)
  const others = users.filter((user) => user.id !== input.userId)
  const { roomId, events } = await db.transaction().execute(async (trx) => {
    const roomId = await insertRoom(trx, input.name, input.userId)
    await addParticipants(trx, roomId, [{ id: input.userId, role: 'owner' }, ...others.map((user) => ({ id: user.id, role: 'member' as const }))])
    const events = others.length > 0 ? [await appendRoomEvent(trx, roomId, 'participants.added', { users: others })] : []
    return { roomId, events }
  })
  await publisher.publish(events, input.requestId)
  context.notifyCreator(input.userId, roomId)
  return loadRoom(db, roomId, input.userId)
}

/** One room, for a participant. */
export async function getRoom(context: RoomsContext, input: RoomInput): Promise<Room> {
  await requireParticipant(context.db, input.roomId, input.userId)
  return loadRoom(context.db, input.roomId, input.userId)
}

/** Renames a room (any participant) and publishes `room.updated`. */
export async function renameRoom(context: RoomsContext, input: RoomInput & { name: string }): Promise<Room> {
  const { db, publisher } = context
  const event = await db.transaction().execute(async (trx) => {
    await requireParticipant(trx, input.roomId, input.userId, { lock: true })
    await refuseDirectRoom(trx, input.roomId)
    if (input.name.trim() === '') throw roomErrors.blankName()
    await updateRoomName(trx, input.roomId, input.name)
    return appendRoomUpdated(trx, input.roomId)
  })
  await publisher.publish([event], input.requestId)
  return loadRoom(db, input.roomId, input.userId)
}

/** Adds the named users (any participant may); those already in are ignored, and any unknown name adds nobody. Not in a direct room. */
export async function addUsers(context: RoomsContext, input: RoomInput & { displayNames: readonly string[] }): Promise<Room> {
  const { db, publisher } = context
  const events = await db.transaction().execute(async (trx) => {
    await requireParticipant(trx, input.roomId, input.userId, { lock: true })
    await refuseDirectRoom(trx, input.roomId)
    const { users, notFound } = await resolveDisplayNames(trx, input.displayNames)
    if (notFound.length > 0) throw roomErrors.usersNotFound(notFound)
    const added = await addParticipants(trx, input.roomId, users.map((user) => ({ id: user.id, role: 'member' as const })))
    if (added.size === 0) return []
    return [await appendRoomEvent(trx, input.roomId, 'participants.added', { users: users.filter((user) => added.has(user.id)) })]
  })
  await publisher.publish(events, input.requestId)
  return loadRoom(db, input.roomId, input.userId)
}

/** The caller leaves the room and `participants.removed` is published; the room stays for the others. Not a direct room. */
export async function leaveRoom(context: RoomsContext, input: RoomInput): Promise<void> {
  const { db, publisher } = context
  const events = await db.transaction().execute(async (trx) => {
    await requireParticipant(trx, input.roomId, input.userId, { lock: true })
    await refuseDirectRoom(trx, input.roomId)
    const user = await findUser(trx, input.userId)
    if (!user || !(await removeParticipant(trx, input.roomId, input.userId))) return []
    return [await appendRoomEvent(trx, input.roomId, 'participants.removed', { users: [user] })]
  })
  await publisher.publish(events, input.requestId)
}

/** Moves the caller's read position forward (never back, at most to the room's last seq). */
export async function markRead(
  context: RoomsContext,
  input: RoomInput & { seq: number }
): Promise<{ last_read_seq: number; unread_count: number; unread_mentions: number }> {
  const { db } = context
  await requireParticipant(db, input.roomId, input.userId)
  const lastReadSeq = await advanceReadPosition(db, input.roomId, input.userId, input.seq)
  // The caller left between the check and the update.
  if (lastReadSeq === undefined) throw roomErrors.notAMember()
  const [unread, mentions] = await Promise.all([unreadCounts(db, input.userId, [input.roomId]), unreadMentions(db, input.userId, [input.roomId])])
  return { last_read_seq: lastReadSeq, unread_count: unread.get(input.roomId) ?? 0, unread_mentions: mentions.get(input.roomId) ?? 0 }
}
