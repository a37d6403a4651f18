import type { Participant, ReadPosition, Room, User } from '@chat/client'

/** The room list of the side pane and which room the other pane shows. */
export interface RoomsState {
  /** Most recent activity first. */
  rooms: Room[]
  roomsLoaded: boolean
  selectedRoomId: string | null
}

export const emptyRooms: RoomsState = { rooms: [], roomsLoaded: false, selectedRoomId: null }

export function findRoom(state: RoomsState, roomId: string | null): Room | undefined {
  return roomId === null ? undefined : state.rooms.find((room) => room.id === roomId)
}

/** Replaces one room through `update`; a room the list does not hold stays absent (its events may come before the list). */
export function updateRoom<S extends RoomsState>(state: S, roomId: string, update: (room: Room) => Room, moveToTop = false): S {
  const index = state.rooms.findIndex((room) => room.id === roomId)
  const current = state.rooms[index]
  if (!current) return state
  const rooms = [...state.rooms]
  const next = update(current)
  if (moveToTop) {
    rooms.splice(index, 1)
    rooms.unshift(next)
  } else {
    rooms[index] = next
  }
  return { ...state, rooms }
}

/**
 * A room from the server (created, or reloaded after resync_required): a new
 * one goes first; a known one keeps its place and the caller's read position,
 * which the local copy tracks more closely than a snapshot.
 */
export function upsertRoom<S extends RoomsState>(state: S, room: Room): S {
  if (findRoom(state, room.id)) {
    return updateRoom(state, room.id, (current) => ({
      ...room,
      unread_count: current.unread_count,
      unread_mentions: current.unread_mentions,
      last_read_seq: current.last_read_seq
    }))
  }
  return { ...state, rooms: [room, ...state.rooms] }
}

export function removeRoom<S extends RoomsState>(state: S, roomId: string): S {
  return {
    ...state,
    rooms: state.rooms.filter((room) => room.id !== roomId),
    selectedRoomId: state.selectedRoomId === roomId ? null : state.selectedRoomId
  }
}

/**
 * The room list after a reload: the server's activity order, except that a
 * local copy that has seen later events than the snapshot is newer and stays,
 * first. `added` are the rooms to subscribe, `gone` the ones to forget.
 */
export function mergeRoomList(current: readonly Room[], fetched: readonly Room[]): { rooms: Room[]; added: Room[]; gone: string[] } {
  const known = new Set(current.map((room) => room.id))
  const fetchedById = new Map(fetched.map((room) => [room.id, room]))
  const newerHere = current.filter((room) => {
    const server = fetchedById.get(room.id)
    return server !== undefined && room.last_seq > server.last_seq
  })
  const newerIds = new Set(newerHere.map((room) => room.id))
  return {
    rooms: [...newerHere, ...fetched.filter((room) => !newerIds.has(room.id))],
    added: fetched.filter((room) => !known.has(room.id)),
    gone: current.filter((room) => !fetchedById.has(room.id)).map((room) => room.id)
  }
}

export function withReadPosition(room: Room, position: ReadPosition): Room {
  return { ...room, last_read_seq: position.last_read_seq, unread_count: position.unread_count, unread_mentions: position.unread_mentions }
}

/** Whether a read report up to `seq` would tell the server anything. */
export function readIsNews(room: Room, seq: number): boolean {
  return seq > room.last_read_seq || room.unread_count > 0
}

/** Any room event: the room has activity (first in the list) and its seq never moves back. */
export function roomSawEvent<S extends RoomsState>(state: S, roomId: string, seq: number): S {
  return updateRoom(state, roomId, (room) => ({ ...room, last_seq: Math.max(room.last_seq, seq) }), true)
}

/** Events carry users, not participants: the newcomers are members who joined when the event was applied. */
export function addParticipants(room: Room, users: readonly User[], joinedAt: string): Room {
  const present = new Set(room.participants.map((participant) => participant.id))
  const added: Participant[] = users
    .filter((user) => !present.has(user.id))
    .map((user) => ({ id: user.id, display_name: user.display_name, role: 'member', joined_at: joinedAt }))
  return { ...room, participants: [...room.participants, ...added] }
}

/** Users from an event, or the one the caller removed (gone here at once, before its event). */
export function removeParticipants(room: Room, users: readonly Pick<User, 'id'>[]): Room {
  const gone = new Set(users.map((user) => user.id))
  return { ...room, participants: room.participants.filter((participant) => !gone.has(participant.id)) }
}

/** `room.updated` carries the room as anyone sees it; its read position is not the caller's: keep ours. */
export function mergeRoomUpdate(local: Room, incoming: Room, seq: number): Room {
  return {
    ...incoming,
    last_seq: Math.max(local.last_seq, seq),
    last_read_seq: local.last_read_seq,
    unread_count: local.unread_count,
    unread_mentions: local.unread_mentions
  }
}
