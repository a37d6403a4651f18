import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'

// int8 columns are read as JS numbers by both drivers (see connection.ts):
// seq counters stay far below 2^53.

type CreatedAt = ColumnType<Date, Date | string | undefined, never>
type Timestamp = ColumnType<Date, Date | string, Date | string>
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>

export interface UsersTable {
  id: Generated<string>
  display_name: string
  /** NFC-normalized, lower-cased display name: the key that is unique and searched. */
  display_name_key: string
  password_hash: string
  created_at: CreatedAt
  /** `nobody`: no one else may put the user into a group room (migration 0006). */
  rooms_invite: ColumnType<'anyone' | 'nobody', 'anyone' | 'nobody' | undefined, 'anyone' | 'nobody'>
  /** When the user's last socket closed, or their gateway stopped answering; null: not seen since (migration 0007). */
  last_seen_at: ColumnType<Date | null, Date | null | undefined, Date | null>
}

export interface RefreshTokensTable {
  id: Generated<string>
  user_id: string
  /** Every token issued from one login shares a family; re-use of a rotated token revokes the family. */
  family_id: string
  /** SHA-256 of the token, hex. The token itself is never stored. */
  token_hash: string
  expires_at: Timestamp
  created_at: CreatedAt
  /** Set when the token was exchanged for a new one. */
  rotated_at: NullableTimestamp
  revoked_at: NullableTimestamp
}

export interface RoomsTable {
  id: Generated<string>
  name: string
  created_by: string
  created_at: CreatedAt
  last_seq: ColumnType<number, number | undefined, number>
  last_activity_at: ColumnType<Date, Date | string | undefined, Date | string>
  kind: ColumnType<'group' | 'direct', 'group' | 'direct' | undefined, never>
  /** A direct room's two users, the smaller id first (unique as a pair); null for a group. */
  direct_user_low: ColumnType<string | null, string | null | undefined, never>
  direct_user_high: ColumnType<string | null, string | null | undefined, never>
  /** False: only the owner and admins add people (migration 0006). */
  members_can_add: ColumnType<boolean, boolean | undefined, boolean>
}

export interface RoomParticipantsTable {
  room_id: string
  user_id: string
  /** At most one owner per group room (migration 0006); a direct room's two are members. */
  role: 'owner' | 'admin' | 'member'
  joined_at: CreatedAt
  last_read_seq: ColumnType<number, number | undefined, number>
}

export interface RoomAvatarsTable {
  room_id: string
  bytes: Uint8Array
  content_type: string
  width: number
  height: number
  size: number
  etag: string
  updated_at: Timestamp
}

export interface MessagesTable {
  /** UUIDv7, made by the application. */
  id: string
  room_id: string
  seq: number
  sender_id: string
  text: string
  client_msg_id: string | null
  created_at: CreatedAt
  edited_at: NullableTimestamp
  deleted_at: NullableTimestamp
  /** The thread's root (always the root, never another reply); null for a message outside a thread. */
  reply_to: ColumnType<string | null, string | null | undefined, never>
  /** Replies in this message's thread, tombstones included; written by chat_send_messages. */
  reply_count: ColumnType<number, number | undefined, number>
  last_reply_at: NullableTimestamp
  /** to_tsvector('simple', text), kept by PostgreSQL (a stored generated column). */
  search_vector: ColumnType<string, never, never>
}

/** Who a message mentions; room and seq are the message's, copied for the unread-mention counts. */
export interface MessageMentionsTable {
  message_id: string
  user_id: string
  room_id: string
  seq: number
}

export interface ReactionsTable {
  message_id: string
  user_id: string
  reaction: string
  created_at: CreatedAt
  updated_at: Timestamp
}

export interface RoomEventsTable {
  room_id: string
  seq: number
  type: string
  /** The exact frame that sockets receive and the bus carries. */
  payload: ColumnType<unknown, string, never>
  created_at: CreatedAt
}

/**
 * The events not yet known to have reached the bus (migration 0008): a row
 * per event, written with it by a trigger, deleted once it is published.
 * The relay re-publishes what stays.
 */
export interface RoomEventsOutboxTable {
  room_id: string
  seq: number
  type: string
  created_at: Timestamp
}

/** A fixed-window counter shared by every replica (migration 0005). */
export interface RateLimitsTable {
  key: string
  count: number
  reset_at: Timestamp
}

/** `blocker_id` blocked `blocked_id` (migration 0006). */
export interface UserBlocksTable {
  blocker_id: string
  blocked_id: string
  created_at: CreatedAt
}

export interface Database {
  users: UsersTable
  refresh_tokens: RefreshTokensTable
  rooms: RoomsTable
  room_participants: RoomParticipantsTable
  room_avatars: RoomAvatarsTable
  messages: MessagesTable
  message_mentions: MessageMentionsTable
  reactions: ReactionsTable
  room_events: RoomEventsTable
  room_events_outbox: RoomEventsOutboxTable
  rate_limits: RateLimitsTable
  user_blocks: UserBlocksTable
}

export type UserRow = Selectable<UsersTable>
export type NewUser = Insertable<UsersTable>
export type RefreshTokenRow = Selectable<RefreshTokensTable>
export type RoomRow = Selectable<RoomsTable>
export type RoomUpdate = Updateable<RoomsTable>
/** A message as the application reads it; the search vector stays in the database. */
export type MessageRow = Omit<Selectable<MessagesTable>, 'search_vector'>
export type RoomEventRow = Selectable<RoomEventsTable>
