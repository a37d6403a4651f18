import {
  ChatApiError,
  ChatNetworkError,
  ChatSocketError,
  createChatClient,
  type ChatClient,
  type ChatSocket,
  type ConnectionState,
  type Emoji,
  type Message,
  type Room,
  type RoomEventFrame,
  type Session,
  type TypingFrame,
  type User
} from '@chat/client'
import { createRequiredContext, createStore, type Store } from './store.js'

/** A message typed here and not yet confirmed by the server. */
export interface PendingLine {
  clientMsgId: string
  text: string
  status: 'sending' | 'failed'
  error?: string
}

/** What the conversation view shows of one room. */
export interface Timeline {
  status: 'loading' | 'ready' | 'error'
  /** Ascending `seq`, one entry per message id. */
  messages: Message[]
  pending: PendingLine[]
  /** The query of the next older page, when there is one. */
  older?: { before_seq: number; limit?: number }
  loadingOlder: boolean
}

export interface TypingUser {
  user: User
  until: number
}

export type Connection = ConnectionState | 'idle'

export interface ChatState {
  session: Session | null
  connection: Connection
  /** Most recent activity first. */
  rooms: Room[]
  roomsLoaded: boolean
  /** Object URLs of room avatars, by room id. */
  avatars: Record<string, string>
  timelines: Record<string, Timeline>
  /** The caller's own reaction by message id (events carry `my_reaction: null`). */
  myReactions: Record<string, string | null>
  typing: Record<string, TypingUser[]>
  emoji: Emoji[]
  selectedRoomId: string | null
  notice: string | null
}

const sessionKey = 'chat.session'
const pageSize = 50
const typingShownMs = 5_000
const typingRepeatMs = 2_000
const ackPatienceMs = 8_000
const heartbeatMs = 25_000
const pingPatienceMs = 10_000

function emptyState(session: Session | null): ChatState {
  return {
    session,
    connection: 'idle',
    rooms: [],
    roomsLoaded: false,
    avatars: {},
    timelines: {},
    myReactions: {},
    typing: {},
    emoji: [],
    selectedRoomId: null,
    notice: null
  }
}

function readStoredSession(storage: Storage): Session | null {
  try {
    const text = storage.getItem(sessionKey)
    return text ? (JSON.parse(text) as Session) : null
  } catch {
    return null
  }
}

function newClientMsgId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

/** A human sentence for a failed call. */
export function describeError(error: unknown): string {
  if (error instanceof ChatApiError) {
    if (error.code === 'users_not_found' && error.notFound) return `Unknown users: ${error.notFound.join(', ')}`
    if (error.status === 429) return `Too many requests, try again in ${error.retryAfter ?? 1} s`
    return error.detail || error.title || error.code
  }
  if (error instanceof ChatNetworkError) return 'The server cannot be reached'
  if (error instanceof ChatSocketError) return error.code === 'closed' ? 'the connection was lost' : error.detail || error.code
  return error instanceof Error ? error.message : String(error)
}

/** Inserts or replaces messages by id, keeping ascending seq. `prefer` decides which copy wins on a clash. */
function mergeMessages(current: Message[], incoming: Message[], prefer: 'incoming' | 'current'): Message[] {
  const byId = new Map(current.map((message) => [message.id, message]))
  for (const message of incoming) {
    if (prefer === 'current' && byId.has(message.id)) continue
    byId.set(message.id, message)
  }
  return [...byId.values()].sort((a, b) => a.seq - b.seq)
}

/**
 * The chat session of the browser: the API client, the one multiplexed
 * socket, and the state the views render. Views call its methods; every
 * change goes through `store.set`.
 */
export class Chat {
  readonly store: Store<ChatState>
  readonly client: ChatClient
  readonly #storage: Storage
  #socket: ChatSocket | undefined
  /** The socket closed by going offline: the next one resumes from its seqs. */
  #dropSocket: ChatSocket | undefined
  #active = false
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined
  /** The avatar_url each object URL was made from. */
  readonly #avatarSources = new Map<string, string>()
  readonly #readSent = new Map<string, number>()
  #lastTypingSentAt = 0
  #typingTimer: ReturnType<typeof setTimeout> | undefined

  constructor(options: { baseUrl: string; storage: Storage }) {
    this.#storage = options.storage
    const session = readStoredSession(options.storage)
    this.store = createStore(emptyState(session))
    this.client = createChatClient({
      baseUrl: options.baseUrl,
      session,
      onSessionChange: (next) => this.#onSessionChange(next)
    })
  }

  get state(): ChatState {
    return this.store.get()
  }

  get me(): User | undefined {
    return this.state.session?.user
  }

  /** Resumes a stored session, if any. */
  start(): void {
    if (this.client.session) this.#startSession()
  }

  async register(displayName: string, password: string): Promise<void> {
    await this.client.auth.register({ display_name: displayName, password })
    this.#startSession()
  }

  async login(displayName: string, password: string): Promise<void> {
    await this.client.auth.login({ display_name: displayName, password })
    this.#startSession()
  }

  async logout(): Promise<void> {
    try {
      await this.client.auth.logout()
    } catch {
      // The session is forgotten locally whatever the server said.
    }
  }

  dismissNotice(): void {
    this.store.set({ notice: null })
  }

  #report(error: unknown): void {
    this.store.set({ notice: describeError(error) })
  }

  #onSessionChange(session: Session | null): void {
    if (session) this.#storage.setItem(sessionKey, JSON.stringify(session))
    else this.#storage.removeItem(sessionKey)
    const wasSignedIn = this.state.session !== null
    if (session) {
      this.store.set({ session })
    } else if (wasSignedIn) {
      this.#stopSession()
    }
  }

  #startSession(): void {
    if (this.#active) return
    this.#active = true
    this.#openSocket()
    void this.refreshRooms()
    this.client.emoji().then(
      (emoji) => this.store.set({ emoji }),
      (error: unknown) => this.#report(error)
    )
    this.#heartbeatTimer = setInterval(() => this.#checkSocket(), heartbeatMs)
    window.addEventListener('offline', this.#onOffline)
    window.addEventListener('online', this.#onOnline)
  }

  #stopSession(): void {
    this.#active = false
    this.#closeSocket()
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer)
    this.#heartbeatTimer = undefined
    window.removeEventListener('offline', this.#onOffline)
    window.removeEventListener('online', this.#onOnline)
    for (const url of Object.values(this.state.avatars)) URL.revokeObjectURL(url)
    this.#avatarSources.clear()
    this.#readSent.clear()
    this.store.set(emptyState(null))
  }

  /**
   * Opens the multiplexed socket and subscribes every known room, each from
   * the last seq the previous socket delivered (or the room list's last_seq).
   */
  #openSocket(previous?: ChatSocket): void {
    const socket = this.client.connect({ reconnect: { baseDelayMs: 300, maxDelayMs: 5_000 } })
    this.#socket = socket
    const current = () => socket === this.#socket
    socket.on('state', (connection) => {
      if (!current()) return
      this.store.set({ connection })
      // A resumed socket replays room events; the list may have changed too.
      if (connection === 'open') void this.refreshRooms()
    })
    socket.on('event', (frame) => {
      if (current()) this.#applyEvent(frame)
    })
    // Added to a room by someone else: the room list (which subscribes new rooms) picks it up.
    socket.on('room_joined', () => {
      if (current()) void this.refreshRooms()
    })
    socket.on('typing', (frame) => {
      if (current()) this.#onTyping(frame)
    })
    socket.on('resync_required', ({ room_id }) => {
      if (current()) void this.#resync(room_id)
    })
    socket.on('error', (error) => {
      if (!current()) return
      if (error.code === 'not_a_member' || error.code === 'room_not_found') {
        // Without a room id (an older gateway), the room list tells which room went.
        if (error.roomId) this.#dropRoom(error.roomId)
        else void this.refreshRooms()
        return
      }
      if (error.code === 'unauthenticated' && !this.client.session) return
      this.#report(error)
    })
    for (const room of this.state.rooms) socket.subscribe(room.id, { afterSeq: previous?.lastSeq(room.id) ?? room.last_seq })
  }

  #closeSocket(): ChatSocket | undefined {
    const socket = this.#socket
    this.#socket = undefined
    socket?.close()
    return socket
  }

  // Browsers may keep a WebSocket open through a network change (Chromium
  // does when it goes offline): the page's own signals decide too.
  readonly #onOffline = () => {
    if (!this.#active) return
    this.#dropSocket = this.#closeSocket() ?? this.#dropSocket
    this.store.set({ connection: 'reconnecting' })
  }

  readonly #onOnline = () => {
    if (!this.#active || this.#socket) return
    this.#openSocket(this.#dropSocket)
    this.#dropSocket = undefined
  }

  /** A socket that answers no ping is half-open: replace it, resuming where it stopped. */
  #checkSocket(): void {
    const socket = this.#socket
    if (!socket || socket.state !== 'open') return
    let answered = false
    socket.ping().then(
      () => (answered = true),
      () => (answered = true)
    )
    setTimeout(() => {
      if (answered || socket !== this.#socket) return
      this.#closeSocket()
      this.store.set({ connection: 'reconnecting' })
      this.#openSocket(socket)
    }, pingPatienceMs)
  }

  // Rooms

  /** Reloads the room list (kept in the server's activity order) and subscribes to new rooms. */
  async refreshRooms(): Promise<void> {
    if (!this.#active) return
    let fetched: Room[] = []
    try {
      let cursor: string | undefined
      for (let page = 0; page < 10; page++) {
        const result = await this.client.rooms.list(cursor === undefined ? { limit: 100 } : { limit: 100, cursor })
        fetched = fetched.concat(result.rooms)
        cursor = result.next
        if (cursor === undefined) break
      }
    } catch (error) {
      if (!(error instanceof ChatNetworkError)) this.#report(error)
      return
    }
    if (!this.#active) return
    const socket = this.#socket
    const known = new Map(this.state.rooms.map((room) => [room.id, room]))
    const fetchedIds = new Set(fetched.map((room) => room.id))
    // A local copy that has seen later events than the snapshot is newer: keep it, first.
    const newerHere = this.state.rooms.filter((room) => {
      const server = fetched.find((candidate) => candidate.id === room.id)
      return server !== undefined && room.last_seq > server.last_seq
    })
    const newerIds = new Set(newerHere.map((room) => room.id))
    const rooms = [...newerHere, ...fetched.filter((room) => !newerIds.has(room.id))]
    for (const room of fetched) {
      if (!known.has(room.id)) socket?.subscribe(room.id, { afterSeq: room.last_seq })
    }
    for (const room of this.state.rooms) {
      if (!fetchedIds.has(room.id)) this.#dropRoom(room.id)
    }
    this.store.set({ rooms, roomsLoaded: true })
    for (const room of rooms) void this.#loadAvatar(room)
  }

  room(roomId: string | null): Room | undefined {
    return roomId === null ? undefined : this.state.rooms.find((room) => room.id === roomId)
  }

  #updateRoom(roomId: string, update: (room: Room) => Room, moveToTop = false): void {
    this.store.set((state) => {
      const index = state.rooms.findIndex((room) => room.id === roomId)
      const current = state.rooms[index]
      if (!current) return {}
      const rooms = [...state.rooms]
      const next = update(current)
      if (moveToTop) {
        rooms.splice(index, 1)
        rooms.unshift(next)
      } else {
        rooms[index] = next
      }
      return { rooms }
    })
  }

  #addRoom(room: Room): void {
    if (this.room(room.id)) {
      this.#updateRoom(room.id, (current) => ({ ...room, unread_count: current.unread_count, last_read_seq: current.last_read_seq }))
      return
    }
    this.#socket?.subscribe(room.id, { afterSeq: room.last_seq })
    this.store.set((state) => ({ rooms: [room, ...state.rooms] }))
    void this.#loadAvatar(room)
  }

  #dropRoom(roomId: string): void {
    this.#socket?.unsubscribe(roomId)
    const url = this.state.avatars[roomId]
    if (url) URL.revokeObjectURL(url)
    this.#avatarSources.delete(roomId)
    this.#readSent.delete(roomId)
    this.store.set((state) => {
      const { [roomId]: _timeline, ...timelines } = state.timelines
      const { [roomId]: _avatar, ...avatars } = state.avatars
      const { [roomId]: _typing, ...typing } = state.typing
      return {
        rooms: state.rooms.filter((room) => room.id !== roomId),
        timelines,
        avatars,
        typing,
        selectedRoomId: state.selectedRoomId === roomId ? null : state.selectedRoomId
      }
    })
  }

  selectRoom(roomId: string | null): void {
    this.store.set({ selectedRoomId: roomId })
    if (roomId !== null && !this.state.timelines[roomId]) void this.#loadLatest(roomId)
  }

  async createRoom(name: string, participantNames: string[]): Promise<Room> {
    const room = await this.client.rooms.create({ name, participants_display_names: participantNames })
    this.#addRoom(room)
    this.selectRoom(room.id)
    return room
  }

  async addUsers(roomId: string, displayNames: string[]): Promise<void> {
    const room = await this.client.rooms.addUsers(roomId, displayNames)
    this.#updateRoom(roomId, (current) => ({ ...current, participants: room.participants, last_seq: Math.max(current.last_seq, room.last_seq) }))
  }

  async leave(roomId: string): Promise<void> {
    await this.client.rooms.leave(roomId)
    this.#dropRoom(roomId)
  }

  async uploadAvatar(roomId: string, file: Blob, filename: string): Promise<void> {
    const avatar = await this.client.rooms.avatar.upload(roomId, file, filename)
    this.#updateRoom(roomId, (room) => ({ ...room, avatar_url: avatar.avatar_url }))
    const room = this.room(roomId)
    if (room) await this.#loadAvatar(room)
  }

  async removeAvatar(roomId: string): Promise<void> {
    await this.client.rooms.avatar.remove(roomId)
    this.#updateRoom(roomId, (room) => ({ ...room, avatar_url: null }))
    const room = this.room(roomId)
    if (room) await this.#loadAvatar(room)
  }

  /** Fetches the avatar with the bearer token and shows it through an object URL. */
  async #loadAvatar(room: Room): Promise<void> {
    const source = room.avatar_url
    if (this.#avatarSources.get(room.id) === (source ?? '')) return
    this.#avatarSources.set(room.id, source ?? '')
    let url: string | undefined
    if (source) {
      try {
        const result = await this.client.rooms.avatar.fetch(room.id)
        if (result.notModified) return
        url = URL.createObjectURL(new Blob([result.bytes as Uint8Array<ArrayBuffer>], { type: result.contentType }))
      } catch (error) {
        this.#avatarSources.delete(room.id)
        if (!(error instanceof ChatApiError && error.code === 'avatar_not_set')) return
      }
    }
    if (this.#avatarSources.get(room.id) !== (source ?? '')) {
      if (url) URL.revokeObjectURL(url)
      return
    }
    this.store.set((state) => {
      const previous = state.avatars[room.id]
      if (previous) URL.revokeObjectURL(previous)
      const { [room.id]: _old, ...avatars } = state.avatars
      return { avatars: url ? { ...avatars, [room.id]: url } : avatars }
    })
  }

  /** Tells the server how far the reader has seen; never moves backwards. */
  markRead(roomId: string, seq: number): void {
    if (seq <= (this.#readSent.get(roomId) ?? 0)) return
    const room = this.room(roomId)
    if (!room || (seq <= room.last_read_seq && room.unread_count === 0)) return
    this.#readSent.set(roomId, seq)
    this.client.rooms.markRead(roomId, seq).then(
      (position) => this.#updateRoom(roomId, (current) => ({ ...current, last_read_seq: position.last_read_seq, unread_count: position.unread_count })),
      () => this.#readSent.delete(roomId)
    )
  }

  // Messages

  #setTimeline(roomId: string, update: (timeline: Timeline) => Partial<Timeline>): void {
    this.store.set((state) => {
      const timeline = state.timelines[roomId]
      if (!timeline) return {}
      return { timelines: { ...state.timelines, [roomId]: { ...timeline, ...update(timeline) } } }
    })
  }

  #rememberMyReactions(messages: Message[]): void {
    const known = this.state.myReactions
    const fresh = messages.filter((message) => !(message.id in known))
    if (fresh.length === 0) return
    this.store.set((state) => ({
      myReactions: { ...state.myReactions, ...Object.fromEntries(fresh.map((message) => [message.id, message.my_reaction])) }
    }))
  }

  async #loadLatest(roomId: string): Promise<void> {
    this.store.set((state) => ({
      timelines: { ...state.timelines, [roomId]: { status: 'loading', messages: [], pending: state.timelines[roomId]?.pending ?? [], loadingOlder: false } }
    }))
    try {
      const page = await this.client.messages.list(roomId, { limit: pageSize })
      this.#rememberMyReactions(page.messages)
      // Events that arrived while the page loaded are at least as new as it.
      this.#setTimeline(roomId, (timeline) => ({
        status: 'ready',
        messages: mergeMessages(timeline.messages, page.messages, 'current'),
        older: page.prev
      }))
    } catch (error) {
      this.#setTimeline(roomId, () => ({ status: 'error' }))
      this.#report(error)
    }
  }

  async loadOlder(roomId: string): Promise<void> {
    const timeline = this.state.timelines[roomId]
    if (!timeline?.older || timeline.loadingOlder) return
    this.#setTimeline(roomId, () => ({ loadingOlder: true }))
    try {
      const page = await this.client.messages.list(roomId, timeline.older)
      this.#rememberMyReactions(page.messages)
      this.#setTimeline(roomId, (current) => ({
        messages: mergeMessages(current.messages, page.messages, 'current'),
        older: page.prev,
        loadingOlder: false
      }))
    } catch (error) {
      this.#setTimeline(roomId, () => ({ loadingOlder: false }))
      this.#report(error)
    }
  }

  /** After `resync_required`: reload what the screen shows, then resume from the reloaded room. */
  async #resync(roomId: string): Promise<void> {
    try {
      const room = await this.client.rooms.get(roomId)
      this.#addRoom(room)
      if (this.state.timelines[roomId]) {
        const page = await this.client.messages.list(roomId, { limit: pageSize })
        this.#rememberMyReactions(page.messages)
        this.#setTimeline(roomId, () => ({ status: 'ready', messages: page.messages, older: page.prev }))
      }
      this.#socket?.resetRoom(roomId, room.last_seq)
    } catch (error) {
      if (error instanceof ChatApiError && (error.status === 403 || error.status === 404)) this.#dropRoom(roomId)
      else this.#report(error)
    }
  }

  send(roomId: string, text: string): void {
    const line: PendingLine = { clientMsgId: newClientMsgId(), text, status: 'sending' }
    this.#setTimeline(roomId, (timeline) => ({ pending: [...timeline.pending, line] }))
    this.#stopTyping()
    const socket = this.#socket
    if (!socket) {
      this.#setPending(roomId, line.clientMsgId, { status: 'failed', error: 'offline' })
      return
    }
    // The socket re-sends it after a reconnect; past our patience the line offers a retry.
    const patience = setTimeout(() => this.#setPending(roomId, line.clientMsgId, { status: 'failed', error: 'Not delivered yet' }), ackPatienceMs)
    socket.sendMessage(roomId, text, { clientMsgId: line.clientMsgId }).then(
      (message) => {
        clearTimeout(patience)
        this.#confirm(roomId, message)
      },
      (error: unknown) => {
        clearTimeout(patience)
        this.#setPending(roomId, line.clientMsgId, { status: 'failed', error: describeError(error) })
      }
    )
  }

  /** Sends a failed line again over HTTP with the same client_msg_id, so it is stored at most once. */
  retry(roomId: string, clientMsgId: string): void {
    const line = this.state.timelines[roomId]?.pending.find((pending) => pending.clientMsgId === clientMsgId)
    if (!line) return
    this.#setPending(roomId, clientMsgId, { status: 'sending', error: undefined })
    this.client.messages.send(roomId, { text: line.text, client_msg_id: clientMsgId }).then(
      ({ message }) => this.#confirm(roomId, message),
      (error: unknown) => this.#setPending(roomId, clientMsgId, { status: 'failed', error: describeError(error) })
    )
  }

  discard(roomId: string, clientMsgId: string): void {
    this.#setTimeline(roomId, (timeline) => ({ pending: timeline.pending.filter((line) => line.clientMsgId !== clientMsgId) }))
  }

  #setPending(roomId: string, clientMsgId: string, patch: Partial<PendingLine>): void {
    this.#setTimeline(roomId, (timeline) => ({
      pending: timeline.pending.map((line) => (line.clientMsgId === clientMsgId ? { ...line, ...patch } : line))
    }))
  }

  #confirm(roomId: string, message: Message): void {
    this.#setTimeline(roomId, (timeline) => ({
      messages: mergeMessages(timeline.messages, [message], 'current'),
      pending: timeline.pending.filter((line) => line.clientMsgId !== message.client_msg_id)
    }))
  }

  async edit(roomId: string, messageId: string, text: string): Promise<void> {
    const message = await this.client.messages.edit(roomId, messageId, text)
    this.#setTimeline(roomId, (timeline) => ({ messages: mergeMessages(timeline.messages, [message], 'incoming') }))
  }

  async remove(roomId: string, messageId: string): Promise<void> {
    await this.client.messages.delete(roomId, messageId)
    this.#markDeleted(roomId, messageId)
  }

  #markDeleted(roomId: string, messageId: string): void {
    this.#setTimeline(roomId, (timeline) => ({
      messages: timeline.messages.map((message) => (message.id === messageId ? { ...message, deleted: true, text: '', reactions: {} } : message))
    }))
  }

  /** Sets the caller's reaction, or removes it when it is the one already set. */
  async react(messageId: string, reaction: string): Promise<void> {
    const previous = this.state.myReactions[messageId] ?? null
    const next = previous === reaction ? null : reaction
    this.#setMyReaction(messageId, next)
    try {
      if (next === null) await this.client.reactions.remove(messageId)
      else await this.client.reactions.set(messageId, next)
    } catch (error) {
      this.#setMyReaction(messageId, previous)
      this.#report(error)
    }
  }

  #setMyReaction(messageId: string, reaction: string | null): void {
    this.store.set((state) => ({ myReactions: { ...state.myReactions, [messageId]: reaction } }))
  }

  // Typing

  typing(roomId: string): void {
    const now = Date.now()
    if (now - this.#lastTypingSentAt < typingRepeatMs) return
    if (this.#socket?.typing(roomId)) this.#lastTypingSentAt = now
  }

  #stopTyping(): void {
    this.#lastTypingSentAt = 0
  }

  #onTyping(frame: TypingFrame): void {
    if (frame.user.id === this.me?.id) return
    this.#setTyping(frame.room_id, frame.user.id, frame.active ? frame.user : null)
  }

  #setTyping(roomId: string, userId: string, user: User | null): void {
    const now = Date.now()
    this.store.set((state) => {
      const others = (state.typing[roomId] ?? []).filter((entry) => entry.user.id !== userId && entry.until > now)
      const list = user ? [...others, { user, until: now + typingShownMs }] : others
      return { typing: { ...state.typing, [roomId]: list } }
    })
    this.#scheduleTypingExpiry()
  }

  #scheduleTypingExpiry(): void {
    if (this.#typingTimer !== undefined) clearTimeout(this.#typingTimer)
    const entries = Object.values(this.state.typing).flat()
    if (entries.length === 0) return
    const next = Math.min(...entries.map((entry) => entry.until))
    this.#typingTimer = setTimeout(() => {
      this.#typingTimer = undefined
      const now = Date.now()
      this.store.set((state) => ({
        typing: Object.fromEntries(Object.entries(state.typing).map(([roomId, list]) => [roomId, list.filter((entry) => entry.until > now)]))
      }))
      this.#scheduleTypingExpiry()
    }, Math.max(50, next - Date.now()))
  }

  // Live events, in seq order per room (the socket guarantees it)

  #applyEvent(frame: RoomEventFrame): void {
    const roomId = frame.room_id
    const me = this.me
    this.#updateRoom(roomId, (room) => ({ ...room, last_seq: Math.max(room.last_seq, frame.seq) }), true)
    switch (frame.type) {
      case 'message.created': {
        const message = frame.message
        if (message.sender.id !== me?.id) {
          this.#updateRoom(roomId, (room) => ({ ...room, unread_count: room.unread_count + 1 }))
          if (this.state.typing[roomId]?.some((entry) => entry.user.id === message.sender.id)) this.#setTyping(roomId, message.sender.id, null)
        }
        this.#confirm(roomId, message)
        return
      }
      case 'message.updated':
        this.#setTimeline(roomId, (timeline) => ({ messages: mergeMessages(timeline.messages, [frame.message], 'incoming') }))
        return
      case 'message.deleted':
        this.#markDeleted(roomId, frame.message_id)
        return
      case 'reaction.updated':
        if (frame.user.id === me?.id) this.#setMyReaction(frame.message_id, frame.reaction)
        this.#setTimeline(roomId, (timeline) => ({
          messages: timeline.messages.map((message) => (message.id === frame.message_id ? { ...message, reactions: frame.reactions } : message))
        }))
        return
      case 'participants.added': {
        const joinedAt = new Date().toISOString()
        this.#updateRoom(roomId, (room) => {
          const present = new Set(room.participants.map((participant) => participant.id))
          const added = frame.users
            .filter((user) => !present.has(user.id))
            .map((user) => ({ id: user.id, display_name: user.display_name, role: 'member' as const, joined_at: joinedAt }))
          return { ...room, participants: [...room.participants, ...added] }
        })
        return
      }
      case 'participants.removed': {
        if (frame.users.some((user) => user.id === me?.id)) {
          this.#dropRoom(roomId)
          return
        }
        const gone = new Set(frame.users.map((user) => user.id))
        this.#updateRoom(roomId, (room) => ({ ...room, participants: room.participants.filter((participant) => !gone.has(participant.id)) }))
        return
      }
      case 'room.updated': {
        // The event's read position is not the caller's: keep ours.
        this.#updateRoom(roomId, (room) => ({
          ...frame.room,
          last_seq: Math.max(room.last_seq, frame.seq),
          last_read_seq: room.last_read_seq,
          unread_count: room.unread_count
        }))
        const room = this.room(roomId)
        if (room) void this.#loadAvatar(room)
        return
      }
    }
  }
}

export const chatContext = createRequiredContext<Chat>('Chat')
export const useChat = chatContext.use
