import type { Message, Room, RoomEventFrame, User } from '@chat/client'
import { emptyState, type ChatState } from '../src/state/chat-state.js'

let counter = 0
/** A fresh uuid-shaped id, readable in a failing assertion. */
export function id(prefix: string): string {
  counter += 1
  return `${prefix}-0000-4000-8000-${String(counter).padStart(12, '0')}`
}

export const createdAt = '2026-12-01T10:00:00.000Z'

export function user(displayName: string): User {
  return { id: id(displayName.toLowerCase()), display_name: displayName, created_at: createdAt }
}

export function room(name: string, owner: User, fields: Partial<Room> = {}): Room {
  return {
    id: id('room'),
    kind: 'group',
    name,
    created_by: owner,
    participants: [{ id: owner.id, display_name: owner.display_name, role: 'owner', joined_at: createdAt }],
    avatar_url: null,
    created_at: createdAt,
    last_seq: 0,
    last_read_seq: 0,
    unread_count: 0,
    unread_mentions: 0,
    members_can_add: true,
    ...fields
  }
}

export function message(roomId: string, sender: User, seq: number, fields: Partial<Message> = {}): Message {
  return {
    id: id('message'),
    room_id: roomId,
    seq,
    sender,
    text: `message ${seq}`,
    client_msg_id: null,
    created_at: createdAt,
    edited_at: null,
    deleted: false,
    reactions: {},
    my_reaction: null,
    reply_to: null,
    reply_count: 0,
    last_reply_at: null,
    mentions: [],
    ...fields
  }
}

export function created(message: Message, seq = message.seq): RoomEventFrame {
  return { type: 'message.created', room_id: message.room_id, seq, message }
}

/** A signed-in state with `rooms` in that order and a ready timeline for each room in `opened`. */
export function stateWith(me: User, rooms: Room[], opened: Record<string, Message[]> = {}): ChatState {
  const state = emptyState({ user: me, access_token: 'access', refresh_token: 'refresh', token_type: 'Bearer', expires_in: 900 })
  const timelines = Object.fromEntries(
    Object.entries(opened).map(([roomId, messages]) => [roomId, { status: 'ready' as const, messages, pending: [], loadingOlder: false }])
  )
  return { ...state, rooms, roomsLoaded: true, timelines }
}

/** Freezes every object reachable from `value`: a reducer that mutates its input then throws. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}
