import {
  ChatApiError,
  createChatClient,
  type ChatClient,
  type Message,
  type ParticipantRole,
  type Room,
  type RoomsInvite,
  type SearchHit,
  type Session,
  type User
} from '@chat/client'
import type { ActionContext } from './action-context.js'
import { describeError } from './describe-error.js'
import { PeopleActions } from './people.actions.js'
import { RoomActions } from './rooms.actions.js'
import { SocketSupervisor } from './socket-supervisor.js'
import { emptyState, type ChatState } from './state/chat-state.js'
import { applyRoomEvent, removesCaller, type RoomFrame } from './state/room-events.js'
import { findRoom } from './state/rooms.slice.js'
import { expireTypers, TypingExpiry } from './state/typing.slice.js'
import { TimelineActions } from './timeline.actions.js'
import { createRequiredContext, createStore, type Store } from './store.js'

export { describeError } from './describe-error.js'
export type { ChatState, Connection } from './state/chat-state.js'
export type { PendingLine, Timeline } from './state/timeline.slice.js'
export type { TypingUser } from './state/typing.slice.js'

const sessionKey = 'chat.session'

function readStoredSession(storage: Storage): Session | null {
  try {
    const text = storage.getItem(sessionKey)
    return text ? (JSON.parse(text) as Session) : null
  } catch {
    return null
  }
}

/**
 * The chat session of the browser as the views see it: the state they render
 * (`store`) and the actions they call. The socket's lifecycle is the
 * supervisor's, what a frame changes is `applyRoomEvent`'s, and the HTTP side
 * of rooms and timelines is in their actions; this front signs in and out,
 * wires them together and carries out the side effects of frames.
 */
export class Chat {
  readonly store: Store<ChatState>
  readonly client: ChatClient
  readonly #storage: Storage
  readonly #socket: SocketSupervisor
  readonly #rooms: RoomActions
  readonly #timeline: TimelineActions
  readonly #people: PeopleActions
  readonly #typingExpiry = new TypingExpiry()
  #active = false

  constructor(options: { baseUrl: string; storage: Storage }) {
    this.#storage = options.storage
    const session = readStoredSession(options.storage)
    this.store = createStore(emptyState(session))
    this.client = createChatClient({
      baseUrl: options.baseUrl,
      session,
      onSessionChange: (next) => this.#onSessionChange(next)
    })
    this.#socket = new SocketSupervisor(
      this.client,
      {
        rooms: () => this.state.rooms,
        connection: (connection) => {
          this.store.set({ connection })
          // A resumed socket replays room events; the list may have changed too.
          if (connection === 'open') void this.refreshRooms()
        },
        frame: (frame) => this.#onFrame(frame),
        roomJoined: () => void this.refreshRooms(),
        reloadRoom: (roomId) => this.#reloadRoom(roomId),
        roomGone: (roomId) => {
          if (roomId) this.#rooms.drop(roomId)
          else void this.refreshRooms()
        },
        error: (error) => this.#report(error)
      },
      window
    )
    const context: ActionContext = {
      client: this.client,
      store: this.store,
      socket: this.#socket,
      active: () => this.#active,
      report: (error) => this.#report(error)
    }
    this.#rooms = new RoomActions(context)
    this.#timeline = new TimelineActions(context)
    this.#people = new PeopleActions(context)
  }

  get state(): ChatState {
    return this.store.get()
  }

  get me(): User | undefined {
    return this.state.session?.user
  }

  // Session

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

  /** The client's view of the session: stored for the next visit; a refused refresh or a logout ends it here. */
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
    this.#socket.start()
    void this.refreshRooms()
    void this.#people.load()
    this.client.emoji().then(
      (emoji) => this.store.set({ emoji }),
      (error: unknown) => this.#report(error)
    )
  }

  #stopSession(): void {
    this.#active = false
    this.#socket.stop()
    this.#typingExpiry.cancel()
    this.#rooms.clear()
    this.store.set(emptyState(null))
  }

  // Rooms

  /** Reloads the room list (kept in the server's activity order) and subscribes to new rooms. */
  refreshRooms(): Promise<void> {
    return this.#rooms.refresh()
  }

  room(roomId: string | null): Room | undefined {
    return this.#rooms.room(roomId)
  }

  selectRoom(roomId: string | null): void {
    this.#timeline.select(roomId)
  }

  async createRoom(name: string, participantNames: string[]): Promise<Room> {
    const room = await this.#rooms.create(name, participantNames)
    this.selectRoom(room.id)
    return room
  }

  /** Opens (or creates) the direct room with that user and shows it. */
  async openDirect(displayName: string): Promise<Room> {
    const room = await this.#rooms.openDirect(displayName)
    this.selectRoom(room.id)
    return room
  }

  /** The newest messages with these words in the caller's rooms. */
  searchMessages(query: string): Promise<SearchHit[]> {
    return this.client.search.messages(query, { limit: 20 }).then((page) => page.hits)
  }

  addUsers(roomId: string, displayNames: string[]): Promise<void> {
    return this.#rooms.addUsers(roomId, displayNames)
  }

  leave(roomId: string): Promise<void> {
    return this.#rooms.leave(roomId)
  }

  uploadAvatar(roomId: string, file: Blob, filename: string): Promise<void> {
    return this.#rooms.uploadAvatar(roomId, file, filename)
  }

  removeAvatar(roomId: string): Promise<void> {
    return this.#rooms.removeAvatar(roomId)
  }

  /** The owner makes a participant admin, or member again. */
  setRole(roomId: string, userId: string, role: Exclude<ParticipantRole, 'owner'>): Promise<void> {
    return this.#rooms.setRole(roomId, userId, role)
  }

  /** The owner removes anyone, an admin members. */
  removeParticipant(roomId: string, userId: string): Promise<void> {
    return this.#rooms.removeParticipant(roomId, userId)
  }

  renameRoom(roomId: string, name: string): Promise<void> {
    return this.#rooms.update(roomId, { name })
  }

  /** The owner's switch: false lets only the owner and admins add people. */
  setMembersCanAdd(roomId: string, membersCanAdd: boolean): Promise<void> {
    return this.#rooms.update(roomId, { members_can_add: membersCanAdd })
  }

  // People: consent

  /** Reads the blocks and the rooms_invite setting again (they are read once at sign-in). */
  loadPeople(): Promise<void> {
    return this.#people.load()
  }

  /** They can no longer add the caller to rooms, open a direct room with them, or mention them. */
  block(user: Pick<User, 'id'>): Promise<void> {
    return this.#people.block(user)
  }

  unblock(userId: string): Promise<void> {
    return this.#people.unblock(userId)
  }

  /** Who may put the caller into group rooms. */
  setRoomsInvite(roomsInvite: RoomsInvite): Promise<void> {
    return this.#people.setRoomsInvite(roomsInvite)
  }

  /** Tells the server how far the reader has seen; never moves backwards. */
  markRead(roomId: string, seq: number): void {
    this.#rooms.markRead(roomId, seq)
  }

  // Messages

  loadOlder(roomId: string): Promise<void> {
    return this.#timeline.loadOlder(roomId)
  }

  send(roomId: string, text: string, replyTo?: string): void {
    this.#timeline.send(roomId, text, replyTo)
  }

  /** A thread's replies, oldest first. */
  thread(roomId: string, rootId: string): Promise<Message[]> {
    return this.#timeline.thread(roomId, rootId)
  }

  /** Sends a failed line again over HTTP with the same client_msg_id, so it is stored at most once. */
  retry(roomId: string, clientMsgId: string): void {
    this.#timeline.retry(roomId, clientMsgId)
  }

  discard(roomId: string, clientMsgId: string): void {
    this.#timeline.discard(roomId, clientMsgId)
  }

  edit(roomId: string, messageId: string, text: string): Promise<void> {
    return this.#timeline.edit(roomId, messageId, text)
  }

  remove(roomId: string, messageId: string): Promise<void> {
    return this.#timeline.remove(roomId, messageId)
  }

  /** Sets the caller's reaction, or removes it when it is the one already set. */
  react(messageId: string, reaction: string): Promise<void> {
    return this.#timeline.react(messageId, reaction)
  }

  typing(roomId: string): void {
    this.#timeline.typing(roomId)
  }

  // Live frames, in seq order per room (the socket guarantees it)

  #onFrame(frame: RoomFrame): void {
    const before = this.state
    if (frame.type === 'participants.removed' && removesCaller(frame, this.me)) {
      this.#socket.unsubscribe(frame.room_id)
      this.#rooms.forgetResources(frame.room_id)
    }
    this.store.set((state) => applyRoomEvent(state, frame, state.session?.user, Date.now()))
    const after = this.state
    if (after.typing !== before.typing) this.#typingExpiry.schedule(after, this.#expireTyping)
    if (frame.type === 'room.updated') {
      const room = findRoom(after, frame.room_id)
      if (room) void this.#rooms.loadAvatar(room)
    }
  }

  readonly #expireTyping = (): void => {
    this.store.set((state) => expireTypers(state, Date.now()))
    this.#typingExpiry.schedule(this.state, this.#expireTyping)
  }

  /** After `resync_required`: reload what the screen shows; the socket resumes from the returned seq. */
  async #reloadRoom(roomId: string): Promise<number | undefined> {
    try {
      const room = await this.client.rooms.get(roomId)
      this.#rooms.add(room)
      await this.#timeline.reload(roomId)
      return room.last_seq
    } catch (error) {
      if (error instanceof ChatApiError && (error.status === 403 || error.status === 404)) this.#rooms.drop(roomId)
      else this.#report(error)
      return undefined
    }
  }
}

export const chatContext = createRequiredContext<Chat>('Chat')
export const useChat = chatContext.use
