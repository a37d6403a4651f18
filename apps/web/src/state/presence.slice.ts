import type { Participant, PresenceFrame, ReadFrame, Room } from '@chat/client'
import type { RoomsState } from './rooms.slice.js'

/**
 * Presence and read positions live on the rooms' participants, as the server
 * sends them in room responses (`online`, `last_seen_at`, `last_read_seq`);
 * the socket's `presence` and `read` frames keep them current.
 */

/** A participant came online or went offline: every room they are in shows it. */
export function applyPresence<S extends RoomsState>(state: S, frame: PresenceFrame, now: number): S {
  const at = new Date(now).toISOString()
  let changed = false
  const rooms = state.rooms.map((room) => {
    if (!room.participants.some((participant) => participant.id === frame.user.id)) return room
    changed = true
    return {
      ...room,
      participants: room.participants.map((participant) => (participant.id === frame.user.id ? { ...participant, online: frame.online, last_seen_at: at } : participant))
    }
  })
  return changed ? { ...state, rooms } : state
}

/** A participant read up to `seq`: never moves back (frames may cross a reload). */
export function applyRead<S extends RoomsState>(state: S, frame: ReadFrame): S {
  let changed = false
  const rooms = state.rooms.map((room) => {
    if (room.id !== frame.room_id) return room
    return {
      ...room,
      participants: room.participants.map((participant) => {
        if (participant.id !== frame.user.id || (participant.last_read_seq ?? 0) >= frame.last_read_seq) return participant
        changed = true
        return { ...participant, last_read_seq: frame.last_read_seq }
      })
    }
  })
  return changed ? { ...state, rooms } : state
}

/** `room.updated` carries participants as events do (no presence): keep what this side knows of each. */
export function keepPresence(local: Room, merged: Room): Room {
  const known = new Map(local.participants.map((participant) => [participant.id, participant]))
  return {
    ...merged,
    participants: merged.participants.map((participant) => {
      const before = known.get(participant.id)
      if (!before) return participant
      return { ...participant, online: before.online, last_seen_at: before.last_seen_at, last_read_seq: before.last_read_seq }
    })
  }
}

/** Who else read up to `seq` (for "seen by" under the message of that seq). */
export function seenBy(room: Room, seq: number, meId: string | undefined): Participant[] {
  return room.participants.filter((participant) => participant.id !== meId && (participant.last_read_seq ?? 0) >= seq)
}
