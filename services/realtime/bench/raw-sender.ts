// The load generator's lean HTTP: POSTs written as prebuilt HTTP/1.1 bytes on
// keep-alive sockets, one request in flight per socket, responses read only
// as far as their status and length. With the typed client over node:http
// the load generator took 28-36% of a core at 1000 POSTs/s, on the two cores
// it shares with what it measures; with this, 12-15% (BENCH_SENDER=typed
// keeps the typed client). It expects what Fastify answers: a Content-Length
// on every response; anything else fails the request and drops the socket.
import { connect, type Socket } from 'node:net'

/** A refused POST: its status, or 0 when the connection failed (`reason` says how). */
export class SendFailure extends Error {
  constructor(
    readonly status: number,
    readonly reason = `status ${status}`
  ) {
    super(`POST failed: ${reason}`)
  }
}

interface Waiting {
  bytes: Buffer
  resolve: () => void
  reject: (error: SendFailure) => void
}

interface ConnectionEvents {
  /** The response of the request in flight has been read: the socket can take the next. */
  idle(connection: Connection): void
  /** The socket is gone; `neverConnected` when it failed before connecting. */
  closed(connection: Connection, neverConnected: boolean, reason: string): void
}

const HEADER_END = Buffer.from('\r\n\r\n')

class Connection {
  private buffered: Buffer = Buffer.alloc(0)
  private current: Waiting | undefined
  private connected = false
  private failure = 'connection closed'
  private readonly socket: Socket

  constructor(host: string, port: number, private readonly events: ConnectionEvents) {
    this.socket = connect({ host, port, noDelay: true })
    this.socket.on('connect', () => {
      this.connected = true
    })
    this.socket.on('data', (chunk: Buffer) => this.read(chunk))
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.failure = error.code ?? error.message
    })
    this.socket.on('close', () => {
      this.current?.reject(new SendFailure(0, this.failure))
      this.current = undefined
      this.events.closed(this, !this.connected, this.failure)
    })
  }

  send(waiting: Waiting): void {
    this.current = waiting
    this.socket.write(waiting.bytes)
  }

  close(): void {
    this.socket.destroy()
  }

  /** Waits for the whole response (headers and its Content-Length body), then answers the request in flight. */
  private read(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    const headerEnd = this.buffered.indexOf(HEADER_END)
    if (headerEnd < 0) return
    const head = this.buffered.subarray(0, headerEnd).toString('latin1')
    const status = Number(head.slice(9, 12))
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1]
    if (!this.current || !head.startsWith('HTTP/1.1 ') || !Number.isInteger(status) || length === undefined) {
      // Nothing asked for it, or a response this reader cannot frame (chunked, no length): fail loudly, never misattribute.
      this.failure = this.current ? `unreadable response: ${head.split('\r\n')[0]}` : 'response without a request'
      this.socket.destroy()
      return
    }
    const end = headerEnd + HEADER_END.length + Number(length)
    if (this.buffered.length < end) return
    this.buffered = this.buffered.subarray(end)
    const waiting = this.current
    this.current = undefined
    if (status >= 200 && status < 300) waiting.resolve()
    else waiting.reject(new SendFailure(status))
    // The server said it closes this connection: the next request goes on another.
    if (/\r\nconnection: *close/i.test(head)) this.socket.destroy()
    else this.events.idle(this)
  }
}

/** POSTs JSON to one HTTP/1.1 server over at most `maxSockets` keep-alive sockets; the rest queue. */
export class RawSender {
  private readonly idle: Connection[] = []
  private readonly all = new Set<Connection>()
  private readonly queue: Waiting[] = []
  private readonly host: string
  private readonly port: number
  private readonly events: ConnectionEvents = {
    idle: (connection) => {
      const next = this.queue.shift()
      if (next) connection.send(next)
      else this.idle.push(connection)
    },
    closed: (connection, neverConnected, reason) => {
      this.all.delete(connection)
      const at = this.idle.indexOf(connection)
      if (at >= 0) this.idle.splice(at, 1)
      // The server cannot be reached: what waits would wait forever.
      if (neverConnected) for (const waiting of this.queue.splice(0)) waiting.reject(new SendFailure(0, reason))
      // Else a new socket takes the queue on where this one left it.
      else if (this.queue.length > 0 && this.all.size < this.maxSockets) this.open().send(this.queue.shift()!)
    }
  }

  constructor(baseUrl: string, private readonly maxSockets = 64) {
    const url = new URL(baseUrl)
    this.host = url.hostname.replace(/^\[|\]$/g, '')
    this.port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
  }

  post(path: string, token: string, json: string): Promise<void> {
    const bytes = Buffer.from(`POST ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`)
    return new Promise((resolve, reject) => {
      const waiting = { bytes, resolve, reject }
      const connection = this.idle.pop() ?? (this.all.size < this.maxSockets ? this.open() : undefined)
      if (connection) connection.send(waiting)
      else this.queue.push(waiting)
    })
  }

  /** Closes every socket; requests still queued fail. */
  close(): void {
    for (const waiting of this.queue.splice(0)) waiting.reject(new SendFailure(0, 'sender closed'))
    for (const connection of this.all) connection.close()
  }

  private open(): Connection {
    const connection = new Connection(this.host, this.port, this.events)
    this.all.add(connection)
    return connection
  }
}
