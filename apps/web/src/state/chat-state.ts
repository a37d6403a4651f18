import type { ConnectionState, Emoji, Session } from '@chat/client'
import { emptyAvatars, removeAvatar, type AvatarsState } from './avatars.slice.js'
import { emptyPeople, type PeopleState } from './people.slice.js'
import { emptyRooms, removeRoom, type RoomsState } from './rooms.slice.js'
import { emptyTimelines, removeTimeline, type TimelinesState } from './timeline.slice.js'
import { emptyTyping, removeTyping, type TypingState } from './typing.slice.js'

export type Connection = ConnectionState | 'idle'

/**
 * What the views render: one flat snapshot made of the slices, so that a
 * component reads `state.rooms` or `state.typing` whichever slice holds it.
 */
export interface ChatState extends RoomsState, TimelinesState, AvatarsState, TypingState, PeopleState {
  session: Session | null
  connection: Connection
  emoji: Emoji[]
  notice: string | null
}

export function emptyState(session: Session | null): ChatState {
  return { session, connection: 'idle', ...emptyRooms, ...emptyTimelines, ...emptyAvatars, ...emptyTyping, ...emptyPeople, emoji: [], notice: null }
}

/** What a room leaves behind when the caller is no longer in it. Revoking its avatar's object URL is the caller's part. */
export function forgetRoom<S extends RoomsState & TimelinesState & AvatarsState & TypingState>(state: S, roomId: string): S {
  return removeTyping(removeAvatar(removeTimeline(removeRoom(state, roomId), roomId), roomId), roomId)
}
