// One user's device: the typed client's socket (which reconnects, resumes
// with after_seq and drops duplicates) over a WebSocket that also shows the
// harness every raw frame and close code, so that a duplicate or a gap sent
// by the server is seen even though the client would hide it.
import { createChatClient, type ChatClient, type ChatSocket, type WebSocketConstructor } from '@chat/client'
import WebSocket from 'ws'

export interface ProbeStats {
  /** Connections opened (the first included). */
  connections: number
  resyncs: number
}

/**
 * A frame the gateway must never send: a seq at or below the last one of the
 * room on this connection's stream (duplicate), or past the next one (gap:
 * the gateway fills gaps before it sends past them).
 */
export interface RawViolation {
  at: number
  kind: 'duplicate' | 'gap'
  roomId: string
  seq: number
}

/** How long a socket was without its rooms: from losing its connection until every room was subscribed again. */
export interface Outage {
  startedAt: number
  endedAt: number
}

export class ProbeSocket {
  readonly stats: ProbeStats = { connections: 0, resyncs: 0 }
  readonly rawLog: RawViolation[] = []
  readonly closeLog: Array<{ at: number; code: number }> = []
  readonly outages: Outage[] = []
  /** Seqs delivered by the client, per room, in the order it emitted them. */
  readonly delivered = new Map<string, number[]>()
  readonly socket: ChatSocket
  /** The raw `ws` socket of the current connection (to stall its reading). */
  current: WebSocket | undefined
  private rawLast = new Map<string, number>()
  private subscribedRooms = new Set<string>()
  private downSince: number | undefined = Date.now()
  private readonly waiters = new Set<() => void>()

  constructor(
    readonly userIndex: number,
    readonly rooms: readonly string[],
    client: ChatClient,
    options: { tokenInQuery: boolean }
  ) {
    this.socket = client.connect({ WebSocket: this.tappedWebSocket(options.tokenInQuery), reconnect: { baseDelayMs: 200, maxDelayMs: 2_000, stableAfterMs: 5_000 } })
    for (const roomId of rooms) this.delivered.set(roomId, [])
    this.socket.on('event', (frame) => {
      this.delivered.get(frame.room_id)?.push(frame.seq)
      this.wake()
    })
    this.socket.on('subscribed', (frame) => {
      this.subscribedRooms.add(frame.room_id)
      if (this.downSince !== undefined && this.subscribedRooms.size === this.rooms.length) {
        this.outages.push({ startedAt: this.downSince, endedAt: Date.now() })
        this.downSince = undefined
      }
      this.wake()
    })
    this.socket.on('resync_required', () => void this.stats.resyncs++)
    for (const roomId of rooms) this.socket.subscribe(roomId, { afterSeq: 0 })
  }

  /** True while every room is subscribed on an open connection. */
  get healthy(): boolean {
    return this.downSince === undefined
  }

  /** An outage still going on counts until now. */
  openOutage(now: number): Outage | undefined {
    return this.downSince === undefined ? undefined : { startedAt: this.downSince, endedAt: now }
  }

  lastDelivered(roomId: string): number {
    return this.delivered.get(roomId)?.at(-1) ?? 0
  }

  /** Resolves once `check` holds (checked after every frame), or false after `timeoutMs`. */
  async until(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return true
    return new Promise((resolve) => {
      const done = (result: boolean): void => {
        clearTimeout(timer)
        this.waiters.delete(onChange)
        resolve(result)
      }
      const onChange = (): void => { if (check()) done(true) }
      const timer = setTimeout(() => done(check()), timeoutMs)
      this.waiters.add(onChange)
    })
  }

  close(): void {
    this.socket.close()
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter()
  }

  private onRaw(data: string): void {
    let frame: { type?: string; room_id?: string; seq?: number }
    try {
      frame = JSON.parse(data) as typeof frame
    } catch {
      return
    }
    if (typeof frame.seq !== 'number' || typeof frame.room_id !== 'string' || frame.type === 'subscribed') return
    const last = this.rawLast.get(frame.room_id)
    if (last !== undefined) {
      if (frame.seq <= last) this.rawLog.push({ at: Date.now(), kind: 'duplicate', roomId: frame.room_id, seq: frame.seq })
      else if (frame.seq > last + 1) this.rawLog.push({ at: Date.now(), kind: 'gap', roomId: frame.room_id, seq: frame.seq })
    }
    this.rawLast.set(frame.room_id, Math.max(last ?? 0, frame.seq))
  }

  private onConnectionOpen(socket: WebSocket): void {
    this.current = socket
    this.stats.connections++
    // The client resumes each room from the last seq it delivered.
    this.rawLast = new Map(this.rooms.map((roomId) => [roomId, this.lastDelivered(roomId)]))
    this.subscribedRooms = new Set()
  }

  private onConnectionClose(code: number): void {
    this.closeLog.push({ at: Date.now(), code })
    this.downSince ??= Date.now()
    this.subscribedRooms = new Set()
  }

  private tappedWebSocket(tokenInQuery: boolean): WebSocketConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the class below is built per probe
    const probe = this
    return class TappedWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        let target = url
        let offered = protocols
        // Browsers may put the token in the query: some devices do, so that the logs are checked for it.
        if (tokenInQuery && Array.isArray(protocols) && protocols[0] === 'bearer' && protocols[1]) {
          const withToken = new URL(url)
          withToken.searchParams.set('token', protocols[1])
          target = withToken.toString()
          offered = undefined
        }
        super(target, offered)
        this.addEventListener('open', () => probe.onConnectionOpen(this))
        this.addEventListener('message', (event) => probe.onRaw(event.data as string))
        this.addEventListener('close', (event) => probe.onConnectionClose(event.code))
      }
    }
  }
}

/** A typed client for one user, its fetch bounded so that a stalled request fails instead of hanging the run. */
export function chaosClient(baseUrl: string): ChatClient {
  return createChatClient({
    baseUrl,
    WebSocket: WebSocket,
    fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(15_000) })
  })
}
