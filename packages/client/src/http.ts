import type { Avatar, Block, Credentials, Me, Message, ParticipantRole, Room, RoomsInvite, SearchHit, Session, User, UserPresence } from '@chat/contracts'
import { ChatApiError, ChatNetworkError } from './errors.js'
import { randomId } from './ids.js'
import { linkQueryParam, parseLinkHeader } from './link.js'
import type { AvatarFetchResult, MessagePage, MessagePageQuery, ReadPosition, RoomPage, SearchPage, SearchQuery } from './pages.js'
import { readJson, toError } from './responses.js'
import { ChatSocket } from './socket.js'
import type { ConnectOptions, Emoji, Reaction, SocketAuth, WebSocketConstructor } from './types.js'

export { retryAfterSeconds } from './responses.js'

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

export interface ChatClientOptions {
  /** Where the API is served, for example `https://chat.example.com` or `http://127.0.0.1:3000/api`. */
  baseUrl: string
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike
  /** For sockets; defaults to `globalThis.WebSocket`. In Node 20 pass the `ws` package's `WebSocket`. */
  WebSocket?: WebSocketConstructor
  /** A session kept from an earlier run (for example in storage). */
  session?: Session | null
  /** Called whenever the session changes: login, register, refresh, logout, or a refresh that failed (null). */
  onSessionChange?: (session: Session | null) => void
}

export interface SendInput {
  text: string
  client_msg_id?: string
  /** A message of the same room: the new one replies in its thread. */
  reply_to?: string
  /** User ids to mention besides the text's `@name` tokens. */
  mentions?: string[]
}

export interface ChatClient {
  readonly baseUrl: string
  /** The current session, or null when signed out. */
  readonly session: Session | null
  /** Replaces the session (calls onSessionChange). */
  setSession(session: Session | null): void
  auth: {
    register(credentials: Credentials): Promise<Session>
    login(credentials: Credentials): Promise<Session>
    /** Rotates the tokens now; concurrent callers share one request. */
    refresh(): Promise<Session>
    /** Revokes the refresh token and forgets the session (even if the request fails). */
    logout(): Promise<void>
  }
  users: {
    /** The caller, with their settings. */
    me(): Promise<Me>
    /** `rooms_invite: 'nobody'`: no one else puts the caller into a group room. */
    update(settings: { rooms_invite?: RoomsInvite }): Promise<Me>
    search(prefix: string, options?: { limit?: number }): Promise<User[]>
    /** Up to 100 users by id, with `online` and `last_seen_at`: the caller and those who share a room with them (others are left out). */
    presence(ids: readonly string[]): Promise<UserPresence[]>
    blocks: {
      list(): Promise<Block[]>
      /** They can no longer add the caller to rooms, open a direct room with them, or mention them. */
      block(userId: string): Promise<Block>
      unblock(userId: string): Promise<void>
    }
  }
  rooms: {
    list(options?: { limit?: number; cursor?: string }): Promise<RoomPage>
    create(input: { name: string; participants_display_names?: string[] }): Promise<Room>
    get(roomId: string): Promise<Room>
    addUsers(roomId: string, displayNames: string[]): Promise<Room>
    rename(roomId: string, name: string): Promise<Room>
    /** Owner and admins rename; the owner alone sets `members_can_add`. */
    update(roomId: string, changes: { name?: string; members_can_add?: boolean }): Promise<Room>
    leave(roomId: string): Promise<void>
    /** The owner makes a participant admin or member. */
    setRole(roomId: string, userId: string, role: Exclude<ParticipantRole, 'owner'>): Promise<Room>
    /** The owner removes anyone, an admin members. */
    removeParticipant(roomId: string, userId: string): Promise<void>
    markRead(roomId: string, seq: number): Promise<ReadPosition>
    /** The one direct room of the caller and that user; `created` is false when it existed (200). */
    direct(displayName: string): Promise<{ room: Room; created: boolean }>
    avatar: {
      upload(roomId: string, image: Blob | Uint8Array, filename?: string): Promise<Avatar>
      /** The absolute URL of the avatar (it needs the bearer token: fetch it with `fetch`, not an `<img src>`). */
      url(roomId: string): string
      fetch(roomId: string, options?: { etag?: string }): Promise<AvatarFetchResult>
      remove(roomId: string): Promise<void>
    }
  }
  messages: {
    list(roomId: string, query?: MessagePageQuery): Promise<MessagePage>
    /**
     * Sends a message; `created` is false when the server already had this
     * `client_msg_id` (200). Without one, a fresh id is made, so that the
     * client's own retry after a 401 cannot store the message twice.
     */
    send(roomId: string, input: SendInput): Promise<{ message: Message; created: boolean }>
    /** Mentions are read again from `text` and `options.mentions`. */
    edit(roomId: string, messageId: string, text: string, options?: { mentions?: string[] }): Promise<Message>
    /** The replies of the thread `messageId` is in, paged as `list`. */
    thread(roomId: string, messageId: string, query?: MessagePageQuery): Promise<MessagePage>
    delete(roomId: string, messageId: string): Promise<void>
  }
  search: {
    /** Messages with every word of `q` (the last as a prefix) in the caller's rooms, newest first; pass `next` back for the following page. */
    messages(q: string, query?: SearchQuery): Promise<SearchPage>
  }
  reactions: {
    list(messageId: string): Promise<Reaction[]>
    set(messageId: string, reaction: string): Promise<{ reaction: Reaction; created: boolean }>
    remove(messageId: string): Promise<void>
  }
  emoji(): Promise<Emoji[]>
  /** Opens a socket: `/ws/chat/:room_id/` when `roomId` is given, else the multiplexed `/ws/`. */
  connect(options?: ConnectOptions): ChatSocket
}

interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  query?: Record<string, string | number | undefined>
  json?: unknown
  form?: FormData
  headers?: Record<string, string>
  /** Send the bearer token and refresh it on a 401. Default true. */
  auth?: boolean
  /** Statuses besides 2xx that are answers, not errors. */
  accept?: number[]
}

const seg = encodeURIComponent

/**
 * The typed client of the chat API.
 *
 * @example
 * const client = createChatClient({ baseUrl: 'http://127.0.0.1:3000', onSessionChange: save })
 * await client.auth.login({ display_name: 'Ada', password: 'long enough' })
 * const room = await client.rooms.create({ name: 'Tea', participants_display_names: ['Bob'] })
 * await client.messages.send(room.id, { text: 'hello' })
 */
export function createChatClient(options: ChatClientOptions): ChatClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  // Bound lazily: a browser's fetch called with another `this` throws.
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  let session: Session | null = options.session ?? null
  let refreshing: Promise<Session> | undefined

  function setSession(next: Session | null): void {
    session = next
    options.onSessionChange?.(next)
  }

  function urlOf(path: string, query?: RequestSpec['query']): string {
    let url = `${baseUrl}${path}`
    if (query) {
      const params = new URLSearchParams()
      for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value))
      const text = params.toString()
      if (text) url += `?${text}`
    }
    return url
  }

  async function fetchOnce(spec: RequestSpec, accessToken: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...spec.headers }
    if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`
    let body: BodyInit | undefined
    if (spec.form) body = spec.form
    else if (spec.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(spec.json)
    }
    try {
      return await fetchImpl(urlOf(spec.path, spec.query), { method: spec.method, headers, body })
    } catch (error) {
      throw new ChatNetworkError(`${spec.method} ${spec.path} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    }
  }

  async function request(spec: RequestSpec): Promise<Response> {
    const auth = spec.auth ?? true
    const usedToken = auth ? session?.access_token : undefined
    let response = await fetchOnce(spec, usedToken)
    if (response.status === 401 && auth && session?.refresh_token) {
      const firstFailure = await toError(response)
      let renewed: string
      try {
        renewed = await renewAfterRejection(usedToken)
      } catch (error) {
        if (error instanceof ChatNetworkError) throw error
        throw firstFailure
      }
      response = await fetchOnce(spec, renewed)
    }
    if (response.ok || spec.accept?.includes(response.status)) return response
    throw await toError(response)
  }

  async function renewAfterRejection(rejectedToken: string | undefined): Promise<string> {
    const current = session
    if (!current) throw new ChatApiError(401, undefined, undefined, 'no session')
    // Another call has refreshed since this token was sent: use the new one.
    if (current.access_token !== rejectedToken && !refreshing) return current.access_token
    return (await refreshSession()).access_token
  }

  function refreshSession(): Promise<Session> {
    if (refreshing) return refreshing
    const current = session
    if (!current) return Promise.reject(new ChatApiError(401, undefined, undefined, 'no session'))
    refreshing = (async () => {
      try {
        const response = await request({ method: 'POST', path: '/auth/refresh/', json: { refresh_token: current.refresh_token }, auth: false })
        const next = await readJson<Session>(response)
        setSession(next)
        return next
      } catch (error) {
        // The server refused the refresh token (400/401): this session is
        // over. An outage (5xx), a rate limit or a network failure says
        // nothing about the token, so the session is kept for a later try.
        const refused = error instanceof ChatApiError && (error.status === 400 || error.status === 401)
        if (refused && session?.refresh_token === current.refresh_token) setSession(null)
        throw error
      } finally {
        refreshing = undefined
      }
    })()
    return refreshing
  }

  async function json<T>(spec: RequestSpec): Promise<T> {
    return readJson<T>(await request(spec))
  }

  async function none(spec: RequestSpec): Promise<void> {
    const response = await request(spec)
    await response.body?.cancel()
  }

  /** A page of messages at `path` (a room's, or a thread's), with its `Link` header read into queries. */
  async function messagePage(path: string, query: MessagePageQuery): Promise<MessagePage> {
    const response = await request({ method: 'GET', path, query: { ...query } })
    const page: MessagePage = { messages: await readJson<Message[]>(response) }
    const links = parseLinkHeader(response.headers.get('link'))
    const beforeSeq = linkQueryParam(links.prev, 'before_seq')
    const afterSeq = linkQueryParam(links.next, 'after_seq')
    if (beforeSeq !== undefined) page.prev = withLimit({ before_seq: Number(beforeSeq) }, linkQueryParam(links.prev, 'limit'))
    if (afterSeq !== undefined) page.next = withLimit({ after_seq: Number(afterSeq) }, linkQueryParam(links.next, 'limit'))
    return page
  }

  async function startSession(path: string, credentials: Credentials): Promise<Session> {
    const next = await json<Session>({ method: 'POST', path, json: credentials, auth: false })
    setSession(next)
    return next
  }

  const socketAuth: SocketAuth = {
    accessToken: () => session?.access_token,
    renewAfterRejection
  }

  return {
    baseUrl,
    get session() {
      return session
    },
    setSession,
    auth: {
      register: (credentials) => startSession('/auth/register/', credentials),
      login: (credentials) => startSession('/auth/login/', credentials),
      refresh: refreshSession,
      async logout() {
        const current = session
        if (!current) return
        try {
          await none({ method: 'POST', path: '/auth/logout/', json: { refresh_token: current.refresh_token } })
        } finally {
          setSession(null)
        }
      }
    },
    users: {
      me: () => json<Me>({ method: 'GET', path: '/users/me/' }),
      update: (settings) => json<Me>({ method: 'PATCH', path: '/users/me/', json: settings }),
      search: (prefix, searchOptions = {}) => json<User[]>({ method: 'GET', path: '/users/', query: { search: prefix, limit: searchOptions.limit } }),
      presence: async (ids) => (ids.length === 0 ? [] : json<UserPresence[]>({ method: 'GET', path: '/users/', query: { ids: ids.join(',') } })),
      blocks: {
        list: () => json<Block[]>({ method: 'GET', path: '/users/me/blocks/' }),
        block: (userId) => json<Block>({ method: 'PUT', path: `/users/me/blocks/${seg(userId)}/` }),
        unblock: (userId) => none({ method: 'DELETE', path: `/users/me/blocks/${seg(userId)}/` })
      }
    },
    rooms: {
      async list(listOptions = {}) {
        const response = await request({ method: 'GET', path: '/chatrooms/', query: { limit: listOptions.limit, before: listOptions.cursor } })
        const rooms = await readJson<Room[]>(response)
        const next = linkQueryParam(parseLinkHeader(response.headers.get('link')).next, 'before')
        return next === undefined ? { rooms } : { rooms, next }
      },
      create: (input) => json<Room>({ method: 'POST', path: '/chatrooms/', json: input }),
      get: (roomId) => json<Room>({ method: 'GET', path: `/chatrooms/${seg(roomId)}/` }),
      addUsers: (roomId, displayNames) =>
        json<Room>({ method: 'POST', path: `/chatrooms/${seg(roomId)}/add_user/`, json: { user_display_names: displayNames } }),
      rename: (roomId, name) => json<Room>({ method: 'PATCH', path: `/chatrooms/${seg(roomId)}/`, json: { name } }),
      update: (roomId, changes) => json<Room>({ method: 'PATCH', path: `/chatrooms/${seg(roomId)}/`, json: changes }),
      leave: (roomId) => none({ method: 'DELETE', path: `/chatrooms/${seg(roomId)}/participants/me/` }),
      setRole: (roomId, userId, role) => json<Room>({ method: 'PATCH', path: `/chatrooms/${seg(roomId)}/participants/${seg(userId)}/`, json: { role } }),
      removeParticipant: (roomId, userId) => none({ method: 'DELETE', path: `/chatrooms/${seg(roomId)}/participants/${seg(userId)}/` }),
      markRead: (roomId, seq) => json<ReadPosition>({ method: 'PUT', path: `/chatrooms/${seg(roomId)}/read/`, json: { seq } }),
      async direct(displayName) {
        const response = await request({ method: 'POST', path: '/direct/', json: { display_name: displayName } })
        return { room: await readJson<Room>(response), created: response.status === 201 }
      },
      avatar: {
        upload(roomId, image, filename = 'avatar') {
          const form = new FormData()
          form.append('avatar', image instanceof Blob ? image : new Blob([asArrayBufferView(image)]), filename)
          return json<Avatar>({ method: 'PATCH', path: `/chatrooms/${seg(roomId)}/avatar/`, form })
        },
        url: (roomId) => urlOf(`/chatrooms/${seg(roomId)}/avatar/`),
        async fetch(roomId, fetchOptions = {}) {
          const headers: Record<string, string> = { accept: 'image/*' }
          if (fetchOptions.etag !== undefined) headers['if-none-match'] = fetchOptions.etag
          const response = await request({ method: 'GET', path: `/chatrooms/${seg(roomId)}/avatar/`, headers, accept: [304] })
          const etag = response.headers.get('etag') ?? undefined
          if (response.status === 304) {
            await response.body?.cancel()
            return { notModified: true, etag: etag ?? fetchOptions.etag ?? '' }
          }
          const bytes = new Uint8Array(await response.arrayBuffer())
          return { notModified: false, bytes, contentType: response.headers.get('content-type') ?? 'application/octet-stream', etag }
        },
        remove: (roomId) => none({ method: 'DELETE', path: `/chatrooms/${seg(roomId)}/avatar/` })
      }
    },
    messages: {
      list: (roomId, query = {}) => messagePage(`/messages/${seg(roomId)}/`, query),
      thread: (roomId, messageId, query = {}) => messagePage(`/messages/${seg(roomId)}/${seg(messageId)}/thread/`, query),
      async send(roomId, input) {
        const body = { ...input, client_msg_id: input.client_msg_id ?? randomId() }
        const response = await request({ method: 'POST', path: `/messages/${seg(roomId)}/`, json: body })
        return { message: await readJson<Message>(response), created: response.status === 201 }
      },
      edit: (roomId, messageId, text, options = {}) =>
        json<Message>({ method: 'PATCH', path: `/messages/${seg(roomId)}/${seg(messageId)}/`, json: { text, ...options } }),
      delete: (roomId, messageId) => none({ method: 'DELETE', path: `/messages/${seg(roomId)}/${seg(messageId)}/` })
    },
    search: {
      async messages(q, query = {}) {
        const response = await request({ method: 'GET', path: '/search/messages/', query: { q, ...query } })
        const hits = await readJson<SearchHit[]>(response)
        const link = parseLinkHeader(response.headers.get('link')).next
        const before = linkQueryParam(link, 'before')
        if (before === undefined) return { hits }
        const roomId = linkQueryParam(link, 'room_id')
        return { hits, next: withLimit(roomId === undefined ? { before } : { before, room_id: roomId }, linkQueryParam(link, 'limit')) }
      }
    },
    reactions: {
      list: (messageId) => json<Reaction[]>({ method: 'GET', path: `/messages/${seg(messageId)}/reaction/` }),
      async set(messageId, reaction) {
        const response = await request({ method: 'POST', path: `/messages/${seg(messageId)}/reaction/`, json: { reaction } })
        return { reaction: await readJson<Reaction>(response), created: response.status === 201 }
      },
      remove: (messageId) => none({ method: 'DELETE', path: `/messages/${seg(messageId)}/reaction/` })
    },
    emoji: () => json<Emoji[]>({ method: 'GET', path: '/emoji/', auth: false }),
    connect(connectOptions = {}) {
      const WebSocketImpl = connectOptions.WebSocket ?? options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
      if (!WebSocketImpl) throw new TypeError('no WebSocket implementation: pass the `ws` package\'s WebSocket as the WebSocket option')
      return new ChatSocket({ ...connectOptions, baseUrl, WebSocket: WebSocketImpl, auth: socketAuth })
    }
  }
}

function withLimit<T extends object>(query: T, limit: string | undefined): T & { limit?: number } {
  return limit === undefined ? query : { ...query, limit: Number(limit) }
}

function asArrayBufferView(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  // Blob refuses views of a SharedArrayBuffer: copy those.
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)
}
