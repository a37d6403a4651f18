import type { Message, Room, SearchHit } from '@chat/contracts'

/** A page of `GET /chatrooms/`; pass `next` as `cursor` to get the following page. */
export interface RoomPage {
  rooms: Room[]
  next?: string
}

export interface MessagePageQuery {
  /** 1..200, default 50 (the server's). */
  limit?: number
  before_seq?: number
  after_seq?: number
}

/** A page of messages; `prev` and `next` are ready-made queries for `messages.list`. */
export interface MessagePage {
  messages: Message[]
  /** Older messages exist. */
  prev?: { before_seq: number; limit?: number }
  /** Newer messages exist. */
  next?: { after_seq: number; limit?: number }
}

export type AvatarFetchResult =
  | { notModified: false; bytes: Uint8Array; contentType: string; etag: string | undefined }
  | { notModified: true; etag: string }

export interface ReadPosition {
  last_read_seq: number
  unread_count: number
  unread_mentions: number
}

export interface SearchQuery {
  /** Only this room. */
  room_id?: string
  /** 1..100, default 20 (the server's). */
  limit?: number
  /** The `before` of a page's `next`. */
  before?: string
}

/** A page of search hits, newest first; `next` is the query of the following page. */
export interface SearchPage {
  hits: SearchHit[]
  next?: SearchQuery & { before: string }
}
