import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Session } from '@chat/contracts'

export interface TeardownHost {
  teardown(fn: () => unknown): void
}

export const roomA = '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f'
export const roomB = '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e60'

export function session(accessToken: string, refreshToken = `refresh-of-${accessToken}`): Session {
  return {
    user: { id: '0190f5e2-0000-7000-8000-000000000001', display_name: 'Ada', created_at: '2026-11-26T20:15:00.123Z' },
    access_token: accessToken,
    refresh_token: refreshToken,
    token_type: 'Bearer',
    expires_in: 900
  }
}

export type Frame = Record<string, unknown> & { type: string }

/** One socket as the scripted server sees it. */
export class PeerConnection {
  readonly frames: Frame[] = []
  readonly closed: Promise<number>
  #waiters: Array<{ predicate: (frame: Frame) => boolean; resolve: (frame: Frame) => void }> = []

  constructor(
    readonly ws: WebSocket,
    readonly path: string,
    readonly query: URLSearchParams,
    readonly token: string | undefined
  ) {
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)))
    ws.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString('utf8')) as Frame
      this.frames.push(frame)
      const waiter = this.#waiters.find((candidate) => candidate.predicate(frame))
      if (waiter) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
        waiter.resolve(frame)
      }
    })
  }

  /** The first frame (already received or still to come) that matches. */
  nextFrame(predicate: (frame: Frame) => boolean = () => true): Promise<Frame> {
    const seen = this.frames.find(predicate)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve) => this.#waiters.push({ predicate, resolve }))
  }

  send(frame: Frame): void {
    this.ws.send(JSON.stringify(frame))
  }
}

export type HttpHandler = (request: IncomingMessage, response: ServerResponse, body: Buffer) => void

/**
 * A local peer: node:http for HTTP routes and a ws server on the same port.
 * `onConnection` scripts each socket; `connections` lists them in order.
 */
export async function startPeer(
  t: TeardownHost,
  script: { onConnection?: (connection: PeerConnection, index: number) => void; http?: HttpHandler } = {}
): Promise<{ baseUrl: string; connections: PeerConnection[]; nextConnection(): Promise<PeerConnection>; server: Server }> {
  const connections: PeerConnection[] = []
  const waiting: Array<(connection: PeerConnection) => void> = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      if (script.http) script.http(request, response, Buffer.concat(chunks))
      else response.writeHead(404).end()
    })
  })
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws, request) => {
    const url = new URL(request.url ?? '/', 'http://peer.invalid')
    const protocols = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((value) => value.trim())
    const token = protocols[0] === 'bearer' ? protocols[1] : undefined
    const connection = new PeerConnection(ws, url.pathname, url.searchParams, token)
    connections.push(connection)
    script.onConnection?.(connection, connections.length - 1)
    waiting.shift()?.(connection)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const client of wss.clients) client.terminate()
    await new Promise((resolve) => wss.close(resolve))
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  const { port } = server.address() as AddressInfo
  let delivered = 0
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    connections,
    server,
    nextConnection() {
      const index = delivered
      delivered += 1
      const existing = connections[index]
      if (existing) return Promise.resolve(existing)
      return new Promise((resolve) => {
        waiting.push(resolve)
      }).then(() => connections[index] as PeerConnection)
    }
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
}

export function sendProblem(response: ServerResponse, status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  const body = { type: 'about:blank', title: code, status, detail: `detail of ${code}`, code, ...extra }
  response.writeHead(status, { 'content-type': 'application/problem+json', ...headers }).end(JSON.stringify(body))
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Resolves once `condition` holds; fails the wait after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await delay(5)
  }
}

export function messageFrame(roomId: string, seq: number, text = `m${seq}`): Frame {
  return {
    type: 'message.created',
    room_id: roomId,
    seq,
    message: {
      id: `0190f5e2-7a1b-7c3d-8e9f-${String(seq).padStart(12, '0')}`,
      room_id: roomId,
      seq,
      sender: session('x').user,
      text,
      client_msg_id: null,
      created_at: '2026-11-26T20:15:00.123Z',
      reply_to: null,
      reply_count: 0,
      last_reply_at: null,
      mentions: [],
      edited_at: null,
      deleted: false,
      reactions: {},
      my_reaction: null
    }
  }
}
