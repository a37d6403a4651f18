// The load generator's lean HTTP: POSTs written as prebuilt HTTP/1.1 bytes on
// keep-alive sockets, one request in flight per socket, responses read only
// as far as their status and length. The typed client over node:http cost
// the load generator about 300 µs of CPU per POST, a quarter of a core at
// 1000/s on the two cores it shares with what it measures; this costs a
// fraction of that (BENCH_SENDER=typed keeps the typed client).
import { connect, type Socket } from 'node:net'

/** A refused POST: its status (or 0 when the connection failed). */
export class SendFailure extends Error {
  constructor(readonly status: number) {
    super(`POST answered ${status}`)
  }
}

interface Waiting {
  bytes: Buffer
  resolve: () => void
  reject: (error: SendFailure) => void
}

const HEADER_END = Buffer.from('\r\n\r\n')

class Connection {
  private buffered: Buffer = Buffer.alloc(0)
  private current: Waiting | undefined
  private readonly socket: Socket

  constructor(host: string, port: number, private readonly onIdle: (connection: Connection) => void, private readonly onClose: (connection: Connection) => void) {
    this.socket = connect({ host, port, noDelay: true })
    this.socket.on('data', (chunk: Buffer) => this.read(chunk))
    this.socket.on('error', () => undefined)
    this.socket.on('close', () => {
      this.current?.reject(new SendFailure(0))
      this.current = undefined
      this.onClose(this)
    })
  }

  get busy(): boolean {
    return this.current !== undefined
  }

  send(waiting: Waiting): void {
    this.current = waiting
    this.socket.write(waiting.bytes)
  }

  close(): void {
    this.socket.destroy()
  }

  /** Waits for a whole response (headers and a Content-Length body), then answers the request. */
  private read(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    const headerEnd = this.buffered.indexOf(HEADER_END)
    if (headerEnd < 0) return
    const head = this.buffered.subarray(0, headerEnd).toString('latin1')
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
    const end = headerEnd + HEADER_END.length + length
    if (this.buffered.length < end) return
    this.buffered = this.buffered.subarray(end)
    const status = Number(head.slice(9, 12))
    const waiting = this.current
    this.current = undefined
    if (status >= 200 && status < 300) waiting?.resolve()
    else waiting?.reject(new SendFailure(status))
    this.onIdle(this)
  }
}

/** POSTs JSON to one HTTP/1.1 server over at most `maxSockets` keep-alive sockets; the rest queue. */
export class RawSender {
  private readonly idle: Connection[] = []
  private readonly all = new Set<Connection>()
  private readonly queue: Waiting[] = []
  private readonly host: string
  private readonly port: number

  constructor(baseUrl: string, private readonly maxSockets = 64) {
    const url = new URL(baseUrl)
    this.host = url.hostname
    this.port = Number(url.port)
  }

  post(path: string, token: string, json: string): Promise<void> {
    const body = Buffer.from(json)
    const head = `POST ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
    return new Promise((resolve, reject) => {
      const waiting = { bytes: Buffer.concat([Buffer.from(head, 'latin1'), body]), resolve, reject }
      const connection = this.idle.pop() ?? (this.all.size < this.maxSockets ? this.open() : undefined)
      if (connection) connection.send(waiting)
      else this.queue.push(waiting)
    })
  }

  close(): void {
    for (const connection of this.all) connection.close()
  }

  private open(): Connection {
    const connection = new Connection(
      this.host,
      this.port,
      (idle) => {
        const next = this.queue.shift()
        if (next) idle.send(next)
        else this.idle.push(idle)
      },
      (closed) => {
        this.all.delete(closed)
        const at = this.idle.indexOf(closed)
        if (at >= 0) this.idle.splice(at, 1)
      }
    )
    this.all.add(connection)
    return connection
  }
}
