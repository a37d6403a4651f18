import type { PresenceFrame, ReadFrame, RoomEventFrame, TypingFrame, User } from '@chat/client'
import type { AvatarsState } from './avatars.slice.js'
import { forgetRoom } from './chat-state.js'
import { applyPresence, applyRead, keepPresence } from './presence.slice.js'
import { addParticipants, mergeRoomUpdate, removeParticipants, roomSawEvent, updateRoom, type RoomsState } from './rooms.slice.js'
import { confirmMessage, markDeleted, replaceMessage, setMyReaction, setReactionCounts, setThreadCounts, type TimelinesState } from './timeline.slice.js'
import { isTyping, setTyper, type TypingState } from './typing.slice.js'

/** The part of the chat state that what the socket delivers about rooms can change. */
export type RoomEventState = RoomsState & TimelinesState & AvatarsState & TypingState

/** The frames the socket delivers about rooms: the stored events, in seq order per room, typing, presence and read receipts. */
export type RoomFrame = RoomEventFrame | TypingFrame | PresenceFrame | ReadFrame

/** Whether the frame takes the caller out of its room (left elsewhere, or removed by someone). */
export function removesCaller(frame: RoomFrame, me: Pick<User, 'id'> | undefined): boolean {
  return frame.type === 'participants.removed' && frame.users.some((user) => user.id === me?.id)
}

/**
 * The state after one frame from the socket. Pure: `now` (ms since the epoch)
 * dates typing entries and the joined_at of added participants.
 *
 * It trusts the socket to deliver each room's events once and in seq order
 * (the client drops duplicates and resumes gaps); what it does on a repeated
 * or late frame anyway: `last_seq` never moves back, a message keeps the copy
 * already shown and its seq order, and an edit or a deletion is applied again.
 *
 * Side effects the caller owns: unsubscribing and revoking the avatar URL of a
 * room the caller was removed from (`removesCaller`), loading the image of an
 * updated room, and re-arming the typing timer when `typing` changed.
 *
 * @example
 * store.set((state) => applyRoomEvent(state, frame, state.session?.user, Date.now()))
 */
export function applyRoomEvent<S extends RoomEventState>(state: S, frame: RoomFrame, me: Pick<User, 'id'> | undefined, now: number): S {
  if (frame.type === 'typing') {
    if (frame.user.id === me?.id) return state
    return setTyper(state, frame.room_id, frame.user.id, frame.active ? frame.user : null, now)
  }
  if (frame.type === 'presence') return applyPresence(state, frame, now)
  if (frame.type === 'read') return applyRead(state, frame)
  const roomId = frame.room_id
  const next = roomSawEvent(state, roomId, frame.seq)
  switch (frame.type) {
    case 'message.created': {
      const sender = frame.message.sender
      let counted = next
      if (sender.id !== me?.id) {
        const mentionsMe = frame.message.mentions.some((user) => user.id === me?.id) ? 1 : 0
        counted = updateRoom(counted, roomId, (room) => ({ ...room, unread_count: room.unread_count + 1, unread_mentions: room.unread_mentions + mentionsMe }))
        // Their message ends their typing, without waiting for the timer.
        if (isTyping(counted, roomId, sender.id)) counted = setTyper(counted, roomId, sender.id, null, now)
      }
      if (frame.thread_root) counted = setThreadCounts(counted, roomId, frame.thread_root)
      return confirmMessage(counted, roomId, frame.message)
    }
    case 'message.updated':
      return replaceMessage(next, roomId, frame.message)
    case 'message.deleted':
      return markDeleted(next, roomId, frame.message_id)
    case 'reaction.updated': {
      // Every member gets the same event: only its user says whether the reaction is the caller's.
      const mine = frame.user.id === me?.id ? setMyReaction(next, frame.message_id, frame.reaction) : next
      return setReactionCounts(mine, roomId, frame.message_id, frame.reactions)
    }
    case 'participants.added': {
      const joinedAt = new Date(now).toISOString()
      return updateRoom(next, roomId, (room) => addParticipants(room, frame.users, joinedAt))
    }
    case 'participants.removed':
      if (removesCaller(frame, me)) return forgetRoom(next, roomId)
      return updateRoom(next, roomId, (room) => removeParticipants(room, frame.users))
    case 'participants.updated': {
      // Role changes: each named participant as they are now.
      const changed = new Map(frame.participants.map((participant) => [participant.id, participant]))
      return updateRoom(next, roomId, (room) => ({ ...room, participants: room.participants.map((participant) => changed.get(participant.id) ?? participant) }))
    }
    case 'room.updated':
      return updateRoom(next, roomId, (room) => keepPresence(room, mergeRoomUpdate(room, frame.room, frame.seq)))
  }
}
