import type { Kysely, Transaction } from 'kysely'
import type { Room } from '@chat/contracts'
import type { Database } from '@chat/db'
import { findUser } from '@chat/service-kit'
import { appendRoomEvent, requireParticipant, type RoomAccess, type RoomEventPublisher, type StoredRoomEvent } from '@chat/room-events'
import { roomErrors } from './errors.js'
import type { CreatorNotifier } from './join-notices.js'
import type { ReadNotifier } from './read-notices.js'
import { takeOutOfRoom } from './membership.js'
import {
  addParticipants,
  advanceReadPosition,
  decodeRoomCursor,
  encodeRoomCursor,
  insertRoom,
  listRoomPage,
  loadRooms,
  resolveDisplayNames,
  unreadCounts,
  unreadMentions,
  updateRoomSettings
} from './rooms.repository.js'

/** What the operations of the rooms service need. */
export interface RoomsContext {
  db: Kysely<Database>
  publisher: RoomEventPublisher
  /** After a room is made: its creator's other devices hear of it. */
  notifyCreator: CreatorNotifier
  /** After a read position moved: the room's sockets hear of it (`read` frame). Rooms routes only. */
  notifyRead?: ReadNotifier
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
export function refuseDirectRoom(access: Extract<RoomAccess, { kind: 'participant' }>): void {
  if (access.roomKind === 'direct') throw roomErrors.directRoom()
}

/**
 * Refuses what only the owner and admins may do (rename, avatar, remove
 * people) to a member: 403 `admin_required`. `what` completes "Only the
 * room's owner and admins can ...".
 */
export function requireAdmin(access: Extract<RoomAccess, { kind: 'participant' }>, what: string): void {
  if (access.role === 'member') throw roomErrors.adminRequired(what)
}

/** A room as `viewerId` sees it (their read position and unread count). */
export async function loadRoom(db: Kysely<Database>, roomId: string, viewerId: string): Promise<Room> {
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
 * creates nothing; a user who blocked the caller, or lets nobody put them
 * into rooms, is an unknown name.
 */
export async function createRoom(
  context: RoomsContext,
  input: { userId: string; name: string; participantNames: readonly string[]; requestId?: string }
): Promise<Room> {
  const { db, publisher } = context
  if (input.name.trim() === '') throw roomErrors.blankName()
  const { users, notFound } = await resolveDisplayNames(db, input.participantNames, { inviterId: input.userId, groupRoom: true })
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

/**
 * Changes a group room's settings and publishes `room.updated`: its name
 * (owner and admins) and `members_can_add` (the owner). Nothing is changed
 * unless every part of the change is allowed.
 */
export async function updateRoom(context: RoomsContext, input: RoomInput & { name?: string; membersCanAdd?: boolean }): Promise<Room> {
  const { db, publisher } = context
  const event = await db.transaction().execute(async (trx) => {
    const access = await requireParticipant(trx, input.roomId, input.userId, { lock: true })
    refuseDirectRoom(access)
    if (input.membersCanAdd !== undefined && access.role !== 'owner') throw roomErrors.ownerRequired('change who may add people')
    if (input.name !== undefined) {
      requireAdmin(access, 'rename the room')
      if (input.name.trim() === '') throw roomErrors.blankName()
    }
    await updateRoomSettings(trx, input.roomId, { name: input.name, members_can_add: input.membersCanAdd })
    return appendRoomUpdated(trx, input.roomId)
  })
  await publisher.publish([event], input.requestId)
  return loadRoom(db, input.roomId, input.userId)
}

/**
 * Adds the named users; those already in are ignored, and any unknown name
 * adds nobody. Any participant may add unless the room's `members_can_add`
 * is false (then owner and admins). A user who blocked the caller, or lets
 * nobody put them into rooms, is an unknown name. Not in a direct room.
 */
export async function addUsers(context: RoomsContext, input: RoomInput & { displayNames: readonly string[] }): Promise<Room> {
  const { db, publisher } = context
  const events = await db.transaction().execute(async (trx) => {
    const access = await requireParticipant(trx, input.roomId, input.userId, { lock: true })
    refuseDirectRoom(access)
    if (!access.membersCanAdd) requireAdmin(access, 'add people to this room')
    const { users, notFound } = await resolveDisplayNames(trx, input.displayNames, { inviterId: input.userId, groupRoom: true, roomId: input.roomId })
    if (notFound.length > 0) throw roomErrors.usersNotFound(notFound)
    const added = await addParticipants(trx, input.roomId, users.map((user) => ({ id: user.id, role: 'member' as const })))
    if (added.size === 0) return []
    return [await appendRoomEvent(trx, input.roomId, 'participants.added', { users: users.filter((user) => added.has(user.id)) })]
  })
  await publisher.publish(events, input.requestId)
  return loadRoom(db, input.roomId, input.userId)
}

/**
 * The caller leaves the room and `participants.removed` is published; the
 * room stays for the others, and a leaving owner hands it over
 * (`participants.updated`). Not a direct room.
 */
export async function leaveRoom(context: RoomsContext, input: RoomInput): Promise<void> {
  const { db, publisher } = context
  const events = await db.transaction().execute(async (trx) => {
    const access = await requireParticipant(trx, input.roomId, input.userId, { lock: true })
    refuseDirectRoom(access)
    return takeOutOfRoom(trx, input.roomId, input.userId)
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
  const notifying = context.notifyRead && lastReadSeq > 0 ? findUser(db, input.userId) : undefined
  const [unread, mentions, reader] = await Promise.all([unreadCounts(db, input.userId, [input.roomId]), unreadMentions(db, input.userId, [input.roomId]), notifying])
  if (reader) context.notifyRead?.(input.roomId, reader, lastReadSeq)
  return { last_read_seq: lastReadSeq, unread_count: unread.get(input.roomId) ?? 0, unread_mentions: mentions.get(input.roomId) ?? 0 }
}
