// The load generator: POSTs to the messages service, paced every
// millisecond, round-robin over the rooms of a plan; through the lean sender
// (raw-sender.ts), or with BENCH_SENDER=typed through the typed client.
import { randomUUID } from 'node:crypto'
import { Agent, request as httpRequest } from 'node:http'
import WebSocket from 'ws'
import { createChatClient } from '@chat/client'
import { sleep } from '@chat/process-kit'
import { senderCap, type BenchConfig } from './config.js'
import type { BenchUser } from './fixture.js'
import { RawSender } from './raw-sender.js'
import { round2 } from './results.js'

/** One member's POST of a message into a room; rejects with `{ status }` when it is not accepted. */
export type Sender = (roomId: string, message: { text: string; client_msg_id: string }) => Promise<unknown>

export interface RoomPlan {
  roomId: string
  senders: Sender[]
}

export interface DriveResult {
  startedAt: number
  endedAt: number
  accepted: number
  failures: number
  /** POSTs not sent because `senderCap` were in flight. */
  behind: number
  statuses: Record<string, number>
  postP50: number
  postP99: number
}

const now = (): number => performance.timeOrigin + performance.now()

// The senders' HTTP: the typed client over node:http with keep-alive. Node 20's
// global fetch (undici) costs about three times the CPU per request, and the
// load generator shares the two cores with what it measures.
const senderAgent = new Agent({ keepAlive: true, maxSockets: 64 })
const senderFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
  new Promise((resolve, reject) => {
    const url = input instanceof Request ? input.url : String(input)
    const outgoing = httpRequest(url, { method: init?.method ?? 'GET', headers: init?.headers as Record<string, string>, agent: senderAgent }, (incoming) => {
      const chunks: Buffer[] = []
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
      incoming.on('error', reject)
      incoming.on('end', () => {
        const status = incoming.statusCode ?? 0
        const headers = Object.entries(incoming.headers).map(([name, value]): [string, string] => [name, Array.isArray(value) ? value.join(', ') : String(value)])
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers }))
      })
    })
    outgoing.on('error', reject)
    outgoing.end(typeof init?.body === 'string' ? init.body : undefined)
  })

export interface Senders {
  /** The first `count` members of a room send into it. */
  plan(roomId: string, members: BenchUser[], count: number): RoomPlan
  close(): void
}

/** How members POST to the messages service: all over one lean sender, or each with a typed client of its own. */
export function createSenders(messagesUrl: string, kind: BenchConfig['sender']): Senders {
  const raw = kind === 'raw' ? new RawSender(messagesUrl) : undefined
  const senderOf = (user: BenchUser): Sender => {
    if (raw) return (room, message) => raw.post(`/messages/${room}/`, user.token, JSON.stringify(message))
    const client = createChatClient({
      baseUrl: messagesUrl,
      fetch: senderFetch,
      session: { user: { id: user.id, display_name: user.display_name, created_at: user.created_at }, access_token: user.token, refresh_token: 'none', token_type: 'Bearer', expires_in: 3600 },
      WebSocket: WebSocket
    })
    return (room, message) => client.messages.send(room, message)
  }
  return {
    plan: (roomId, members, count) => ({ roomId, senders: members.slice(0, count).map(senderOf) }),
    close: () => raw?.close()
  }
}

/** POSTs at `rate` per second for `seconds`, round-robin over the rooms, paced every millisecond. */
export async function drive(plan: RoomPlan[], rate: number, seconds: number): Promise<DriveResult> {
  const postLatencies: number[] = []
  const inFlight = new Set<Promise<void>>()
  let failures = 0
  let behind = 0
  let sent = 0
  let next = 0
  let turn = 0
  const statuses: Record<string, number> = {}
  const total = Math.round(rate * seconds)
  const startedAt = now()
  const started = performance.now()
  while (sent + behind < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1)
    while (sent + behind < due) {
      if (inFlight.size >= senderCap) {
        behind++
        continue
      }
      const room = plan[next]!
      next = (next + 1) % plan.length
      if (next === 0) turn++
      const send = room.senders[turn % room.senders.length]!
      const begin = performance.now()
      const request = send(room.roomId, { text: `bench ${now().toFixed(3)}`, client_msg_id: randomUUID() })
        .then(
          () => void postLatencies.push(performance.now() - begin),
          (error: { status?: number; reason?: string }) => {
            failures++
            // By status, or for a connection that failed (status 0 or none) by how it failed.
            const key = error.status ? String(error.status) : `network${error.reason ? ` ${error.reason}` : ''}`
            statuses[key] = (statuses[key] ?? 0) + 1
          }
        )
        .finally(() => inFlight.delete(request))
      inFlight.add(request)
      sent++
    }
    await sleep(1)
  }
  const endedAt = now()
  await Promise.all(inFlight)
  postLatencies.sort((a, b) => a - b)
  const pick = (p: number) => (postLatencies.length ? postLatencies[Math.min(postLatencies.length - 1, Math.floor((p / 100) * postLatencies.length))]! : 0)
  return { startedAt, endedAt, accepted: postLatencies.length, failures, behind, statuses, postP50: round2(pick(50)), postP99: round2(pick(99)) }
}
