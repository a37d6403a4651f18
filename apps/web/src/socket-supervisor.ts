import type { ChatClient, ChatSocket, ChatSocketError, Message, Room } from '@chat/client'
import type { Connection } from './state/chat-state.js'
import type { RoomFrame } from './state/room-events.js'

const heartbeatMs = 25_000
const pingPatienceMs = 10_000

/** What the supervisor asks of the rest of the app. */
export interface SocketHooks {
  /** The rooms a new socket subscribes to. */
  rooms(): readonly Room[]
  /** For the connection banner. `open` after a resume: the room list may have changed meanwhile. */
  connection(state: Connection): void
  /** A room event (in seq order per room), or a typing, presence or read frame. */
  frame(frame: RoomFrame): void
  /** Someone added the caller to a room: re-reading the room list subscribes it. */
  roomJoined(): void
  /** After resync_required: reload the room; its `last_seq` to resume from, or undefined to leave it held back. */
  reloadRoom(roomId: string): Promise<number | undefined>
  /** The server refused or stopped a room; without an id (an older gateway) the room list tells which one. */
  roomGone(roomId: string | undefined): void
  /** An error that concerns the user. */
  error(error: ChatSocketError): void
}

/** Where the page says it went offline or online (`window`). */
export type NetworkSignals = Pick<EventTarget, 'addEventListener' | 'removeEventListener'>

/**
 * Keeps the one multiplexed `/ws/` socket of a signed-in session alive. The
 * client's socket reconnects and resumes by itself; this replaces it when it
 * cannot notice the loss: the page going offline (Chromium keeps a WebSocket
 * open through it) and a half-open socket that answers no ping. A replacement
 * resumes every room from the last seq the old socket delivered.
 */
export class SocketSupervisor {
  readonly #client: ChatClient
  readonly #hooks: SocketHooks
  readonly #network: NetworkSignals
  #socket: ChatSocket | undefined
  /** The socket closed by going offline: the next one resumes from its seqs. */
  #dropSocket: ChatSocket | undefined
  #active = false
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined

  constructor(client: ChatClient, hooks: SocketHooks, network: NetworkSignals) {
    this.#client = client
    this.#hooks = hooks
    this.#network = network
  }

  start(): void {
    if (this.#active) return
    this.#active = true
    this.#open()
    this.#heartbeatTimer = setInterval(() => this.#checkSocket(), heartbeatMs)
    this.#network.addEventListener('offline', this.#onOffline)
    this.#network.addEventListener('online', this.#onOnline)
  }

  stop(): void {
    this.#active = false
    this.#close()
    this.#dropSocket = undefined
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer)
    this.#heartbeatTimer = undefined
    this.#network.removeEventListener('offline', this.#onOffline)
    this.#network.removeEventListener('online', this.#onOnline)
  }

  /** Follows a room from `afterSeq`, on this socket and the ones that replace it. */
  subscribe(room: Room): void {
    this.#socket?.subscribe(room.id, { afterSeq: room.last_seq })
  }

  unsubscribe(roomId: string): void {
    this.#socket?.unsubscribe(roomId)
  }

  /** The server's copy once it acknowledges; undefined while there is no socket (offline). */
  sendMessage(roomId: string, text: string, clientMsgId: string, replyTo?: string): Promise<Message> | undefined {
    return this.#socket?.sendMessage(roomId, text, replyTo === undefined ? { clientMsgId } : { clientMsgId, replyTo })
  }

  /** Whether the typing frame went out. */
  typing(roomId: string): boolean {
    return this.#socket?.typing(roomId) ?? false
  }

  /** Subscribes every known room, each from the last seq `previous` delivered (or the room list's last_seq). */
  #open(previous?: ChatSocket): void {
    const socket = this.#client.connect({ reconnect: { baseDelayMs: 300, maxDelayMs: 5_000 } })
    this.#socket = socket
    // A replaced socket may still emit while it closes: only the current one speaks.
    const current = () => socket === this.#socket
    socket.on('state', (connection) => {
      if (current()) this.#hooks.connection(connection)
    })
    socket.on('event', (frame) => {
      if (current()) this.#hooks.frame(frame)
    })
    socket.on('typing', (frame) => {
      if (current()) this.#hooks.frame(frame)
    })
    socket.on('presence', (frame) => {
      if (current()) this.#hooks.frame(frame)
    })
    socket.on('read', (frame) => {
      if (current()) this.#hooks.frame(frame)
    })
    socket.on('room_joined', () => {
      if (current()) this.#hooks.roomJoined()
    })
    socket.on('resync_required', ({ room_id }) => {
      if (current()) void this.#resync(room_id)
    })
    socket.on('error', (error) => {
      if (!current()) return
      if (error.code === 'not_a_member' || error.code === 'room_not_found') {
        this.#hooks.roomGone(error.roomId)
        return
      }
      // Signed out meanwhile: the sign-in view says enough.
      if (error.code === 'unauthenticated' && !this.#client.session) return
      this.#hooks.error(error)
    })
    for (const room of this.#hooks.rooms()) socket.subscribe(room.id, { afterSeq: previous?.lastSeq(room.id) ?? room.last_seq })
  }

  /** The socket holds the room's events back until told where the reloaded room continues. */
  async #resync(roomId: string): Promise<void> {
    const lastSeq = await this.#hooks.reloadRoom(roomId)
    if (lastSeq !== undefined) this.#socket?.resetRoom(roomId, lastSeq)
  }

  #close(): ChatSocket | undefined {
    const socket = this.#socket
    this.#socket = undefined
    socket?.close()
    return socket
  }

  readonly #onOffline = () => {
    if (!this.#active) return
    this.#dropSocket = this.#close() ?? this.#dropSocket
    this.#hooks.connection('reconnecting')
  }

  readonly #onOnline = () => {
    if (!this.#active || this.#socket) return
    this.#open(this.#dropSocket)
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
      this.#close()
      this.#hooks.connection('reconnecting')
      this.#open(socket)
    }, pingPatienceMs)
  }
}
