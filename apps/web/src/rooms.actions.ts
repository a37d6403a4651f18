import { ChatNetworkError, type ParticipantRole, type Room } from '@chat/client'
import type { ActionContext } from './action-context.js'
import { AvatarLoader, withAvatar } from './state/avatars.slice.js'
import { forgetRoom, type ChatState } from './state/chat-state.js'
import { findRoom, mergeRoomList, mergeRoomUpdate, readIsNews, removeParticipants, updateRoom, upsertRoom, withReadPosition } from './state/rooms.slice.js'

/** The room list's I/O: loading and following rooms, their images, the read position. */
export class RoomActions {
  readonly #context: ActionContext
  readonly #avatars: AvatarLoader
  /** The highest seq reported read per room, so that scrolling does not repeat it. */
  readonly #readSent = new Map<string, number>()

  constructor(context: ActionContext) {
    this.#context = context
    this.#avatars = new AvatarLoader(
      (roomId) => context.client.rooms.avatar.fetch(roomId),
      (roomId, url) => {
        const previous = this.#state.avatars[roomId]
        if (previous) URL.revokeObjectURL(previous)
        context.store.set((state) => withAvatar(state, roomId, url))
      }
    )
  }

  get #state(): ChatState {
    return this.#context.store.get()
  }

  room(roomId: string | null): Room | undefined {
    return findRoom(this.#state, roomId)
  }

  /** Reloads the room list (kept in the server's activity order) and subscribes to new rooms. */
  async refresh(): Promise<void> {
    const { client, socket, store } = this.#context
    if (!this.#context.active()) return
    let fetched: Room[] = []
    try {
      let cursor: string | undefined
      for (let page = 0; page < 10; page++) {
        const result = await client.rooms.list(cursor === undefined ? { limit: 100 } : { limit: 100, cursor })
        fetched = fetched.concat(result.rooms)
        cursor = result.next
        if (cursor === undefined) break
      }
    } catch (error) {
      // Offline: the banner says so, and the list is read again on reconnect.
      if (!(error instanceof ChatNetworkError)) this.#context.report(error)
      return
    }
    if (!this.#context.active()) return
    const { rooms, added, gone } = mergeRoomList(this.#state.rooms, fetched)
    for (const room of added) socket.subscribe(room)
    for (const roomId of gone) this.drop(roomId)
    store.set({ rooms, roomsLoaded: true })
    for (const room of rooms) void this.#avatars.load(room)
  }

  /** A room from the server: followed from its last_seq when it is new here. */
  add(room: Room): void {
    const known = this.room(room.id) !== undefined
    if (!known) this.#context.socket.subscribe(room)
    this.#context.store.set((state) => upsertRoom(state, room))
    if (!known) void this.#avatars.load(room)
  }

  /** Stops following a room the caller left or may no longer see, and forgets it. */
  drop(roomId: string): void {
    this.#context.socket.unsubscribe(roomId)
    this.forgetResources(roomId)
    this.#context.store.set((state) => forgetRoom(state, roomId))
  }

  /** What a room holds outside the state (its object URL, load and read bookkeeping); `forgetRoom` does the state. */
  forgetResources(roomId: string): void {
    const url = this.#state.avatars[roomId]
    if (url) URL.revokeObjectURL(url)
    this.#avatars.forget(roomId)
    this.#readSent.delete(roomId)
  }

  /** Shows the room's current image; nothing is fetched when its avatar_url is the one shown. */
  loadAvatar(room: Room): Promise<void> {
    return this.#avatars.load(room)
  }

  /** Signed out: every object URL goes. */
  clear(): void {
    for (const url of Object.values(this.#state.avatars)) URL.revokeObjectURL(url)
    this.#avatars.clear()
    this.#readSent.clear()
  }

  async create(name: string, participantNames: string[]): Promise<Room> {
    const room = await this.#context.client.rooms.create({ name, participants_display_names: participantNames })
    this.add(room)
    return room
  }

  /** The caller's direct room with that user, created when there is none. */
  async openDirect(displayName: string): Promise<Room> {
    const { room } = await this.#context.client.rooms.direct(displayName)
    this.add(room)
    return room
  }

  async addUsers(roomId: string, displayNames: string[]): Promise<void> {
    const room = await this.#context.client.rooms.addUsers(roomId, displayNames)
    this.#update(roomId, (current) => ({ ...current, participants: room.participants, last_seq: Math.max(current.last_seq, room.last_seq) }))
  }

  async leave(roomId: string): Promise<void> {
    await this.#context.client.rooms.leave(roomId)
    this.drop(roomId)
  }

  /** The owner makes a participant admin or member; shown at once, the event only confirms it. */
  async setRole(roomId: string, userId: string, role: Exclude<ParticipantRole, 'owner'>): Promise<void> {
    const room = await this.#context.client.rooms.setRole(roomId, userId, role)
    this.#fromServer(room)
  }

  /** The owner or an admin takes someone out of the room. */
  async removeParticipant(roomId: string, userId: string): Promise<void> {
    await this.#context.client.rooms.removeParticipant(roomId, userId)
    this.#update(roomId, (room) => removeParticipants(room, [{ id: userId }]))
  }

  /** Renames (owner and admins) or sets `members_can_add` (the owner). */
  async update(roomId: string, changes: { name?: string; members_can_add?: boolean }): Promise<void> {
    const room = await this.#context.client.rooms.update(roomId, changes)
    this.#fromServer(room)
  }

  /** A room a write answered with: as a `room.updated` of the same seq would leave it. */
  #fromServer(room: Room): void {
    this.#update(room.id, (current) => mergeRoomUpdate(current, room, room.last_seq))
  }

  async uploadAvatar(roomId: string, file: Blob, filename: string): Promise<void> {
    const avatar = await this.#context.client.rooms.avatar.upload(roomId, file, filename)
    await this.#avatarChanged(roomId, avatar.avatar_url)
  }

  async removeAvatar(roomId: string): Promise<void> {
    await this.#context.client.rooms.avatar.remove(roomId)
    await this.#avatarChanged(roomId, null)
  }

  async #avatarChanged(roomId: string, avatarUrl: string | null): Promise<void> {
    this.#update(roomId, (room) => ({ ...room, avatar_url: avatarUrl }))
    const room = this.room(roomId)
    if (room) await this.#avatars.load(room)
  }

  /** Tells the server how far the reader has seen; never moves backwards. */
  markRead(roomId: string, seq: number): void {
    if (seq <= (this.#readSent.get(roomId) ?? 0)) return
    const room = this.room(roomId)
    if (!room || !readIsNews(room, seq)) return
    this.#readSent.set(roomId, seq)
    this.#context.client.rooms.markRead(roomId, seq).then(
      (position) => this.#update(roomId, (current) => withReadPosition(current, position)),
      // Reported again on the next scroll.
      () => this.#readSent.delete(roomId)
    )
  }

  #update(roomId: string, update: (room: Room) => Room): void {
    this.#context.store.set((state) => updateRoom(state, roomId, update))
  }
}
