// The end of a chaos run: what each device received against what the store
// holds, every send against its acknowledgement, the logs against every
// token issued, and each fault's window against what clients saw in it.
import { sql } from 'kysely'
import type { ChaosEnvironment } from './environment.js'
import type { Outage } from './probe-socket.js'
import type { Traffic } from './traffic.js'

export interface FaultWindow {
  fault: string
  startedAt: number
  /** When the fault was undone (the process back and ready). */
  healedAt: number
  /** When every device had all its rooms again and a new message reached them all; undefined: not within 60 s. */
  recoveredAt: number | undefined
  endedAt: number
  healthyBefore: boolean
}

export interface WindowRow {
  fault: string
  downSeconds: number
  recoverSeconds: number | undefined
  /** Failed attempts clients saw, by kind (HTTP status, network, socket error code). */
  failures: Map<string, number>
  reconnects: number
  longestOutageSeconds: number
  closes: Map<number, number>
  lost: number
  duplicates: number
  gaps: number
  lockedOut: number
  crashes: string[]
  /** What the servers logged about the fault: NATS slow consumers, reconnects of services to NATS. */
  signals: Map<string, number>
}

export interface Verdict {
  windows: FaultWindow[]
  rows: WindowRow[]
  totals: { sends: number; acked: number; retried: number; events: number; devices: number; deliveries: number }
  failures: string[]
}

/**
 * How long the relay may take to publish what a fault stranded. Its writer
 * marks events published in the background and the relay only takes events
 * older than 2 s, in passes a second apart that stop at the first bus error;
 * after a NATS node comes back the stream may take seconds to have a leader.
 * A relay that is stuck or dead stays behind for all of this.
 */
const RELAY_DEADLINE_MS = 30_000

/** Undefined once no committed event is unpublished; else what is left after the deadline. */
async function relayCaughtUp(env: ChaosEnvironment, deadlineMs: number): Promise<{ n: number; types: string; oldestSeconds: number } | undefined> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    const left = await sql<{ n: number; types: string | null; oldest: number | null }>`
      select count(*)::int as n, string_agg(distinct type, ',') as types,
             extract(epoch from now() - min(created_at))::float8 as oldest
      from room_events_outbox`.execute(env.db)
    const row = left.rows[0]
    if (!row || row.n === 0) return undefined
    if (Date.now() >= deadline) return { n: row.n, types: row.types ?? '', oldestSeconds: Math.round(row.oldest ?? 0) }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

/** A device without its rooms for longer than the fault lasted plus this is locked out. */
const LOCKOUT_GRACE_MS = 10_000

export async function verify(input: { env: ChaosEnvironment; traffic: Traffic; windows: FaultWindow[]; accessLog: string }): Promise<Verdict> {
  const { env, traffic, windows, accessLog } = input
  const failures: string[] = []
  const windowOf = (at: number): FaultWindow | undefined => windows.find((window) => at >= window.startedAt && at <= window.endedAt)

  // The store after the run: every room's last seq, and when each event was written.
  const rooms = await env.db.selectFrom('rooms').select(['id', 'last_seq']).where('id', 'in', traffic.rooms).execute()
  const lastSeq = new Map(rooms.map((room) => [room.id, Number(room.last_seq)]))
  await Promise.all(
    traffic.probes.map((probe) => probe.until(() => probe.rooms.every((roomId) => probe.lastDelivered(roomId) >= lastSeq.get(roomId)!), 60_000))
  )
  const events = await env.db.selectFrom('room_events').select(['room_id', 'seq', 'created_at']).where('room_id', 'in', traffic.rooms).execute()
  const eventTime = new Map(events.map((event) => [`${event.room_id}:${Number(event.seq)}`, event.created_at.getTime()]))

  const lostIn = new Map<string, number>()
  const count = (window: FaultWindow | undefined): void => {
    const key = window?.fault ?? '(outside faults)'
    lostIn.set(key, (lostIn.get(key) ?? 0) + 1)
  }

  // Every device: each room exactly 1..last_seq, in order.
  let deliveries = 0
  for (const probe of traffic.probes) {
    for (const roomId of probe.rooms) {
      const got = probe.delivered.get(roomId) ?? []
      deliveries += got.length
      const expected = lastSeq.get(roomId)!
      const seen = new Set<number>()
      for (let index = 0; index < got.length; index++) {
        if (got[index] !== index + 1 && !seen.has(got[index]!)) {
          failures.push(`device of user ${probe.userIndex}, room ${roomId}: seq ${got[index]} at position ${index + 1}`)
          break
        }
        seen.add(got[index]!)
      }
      for (let seq = 1; seq <= expected; seq++) {
        if (seen.has(seq)) continue
        count(windowOf(eventTime.get(`${roomId}:${seq}`) ?? 0))
        failures.push(`device of user ${probe.userIndex} never received seq ${seq} of room ${roomId} (last ${expected})`)
      }
    }
    if (probe.stats.resyncs > 0) failures.push(`device of user ${probe.userIndex} was told to resync ${probe.stats.resyncs} times`)
  }

  // Every send acknowledged, stored once, with the seq it was acknowledged with.
  const unacked = traffic.sends.filter((send) => send.message === undefined)
  for (const send of unacked) count(windowOf(send.startedAt))
  if (unacked.length > 0) failures.push(`${unacked.length} sends never acknowledged (first: ${unacked[0]!.via} into room ${unacked[0]!.roomId})`)
  const stored = await env.db
    .selectFrom('messages')
    .select(['id', 'seq', 'client_msg_id'])
    .where('room_id', 'in', traffic.rooms)
    .execute()
  const storedById = new Map(stored.map((row) => [row.id, Number(row.seq)]))
  const wrong = traffic.sends.filter((send) => send.message && storedById.get(send.message.id) !== send.message.seq)
  if (wrong.length > 0) failures.push(`${wrong.length} acknowledged messages are not stored with the seq they were acknowledged with`)
  const perClientMsgId = new Map<string, number>()
  for (const row of stored) if (row.client_msg_id) perClientMsgId.set(row.client_msg_id, (perClientMsgId.get(row.client_msg_id) ?? 0) + 1)
  const twice = [...perClientMsgId.values()].filter((n) => n > 1).length
  if (twice > 0) failures.push(`${twice} client_msg_ids stored more than once`)
  const stranded = await relayCaughtUp(env, RELAY_DEADLINE_MS)
  if (stranded) {
    // What the relays said, so that a failure on CI can be read without a rerun.
    const said = (text: string): number => env.logs.filter((entry) => entry.line.includes(text)).length
    failures.push(
      `${stranded.n} committed events not published ${RELAY_DEADLINE_MS / 1000} s after the traffic stopped (types ${stranded.types}; oldest ${stranded.oldestSeconds} s old): the relay should have ` +
        `(relay logs: published×${said('relay published stranded events')}, could not publish×${said('relay could not publish')}, pass failed×${said('relay pass failed')})`
    )
  }

  // No token or NATS password in any log line.
  const logText = `${env.logs.map((entry) => entry.line).join('\n')}\n${accessLog}`
  const leaked = traffic.tokens().filter((token) => logText.includes(token))
  if (leaked.length > 0) failures.push(`${leaked.length} tokens appear in the logs`)
  if (Object.values(env.natsPasswords).some((password) => logText.includes(password))) failures.push('a NATS password appears in the logs')
  // The shipped NATS permissions must allow everything the services do under every fault.
  const refused = env.logs.filter((entry) => /NATS permissions violation|Publish Violation|Subscription Violation/.test(entry.line))
  if (refused.length > 0) failures.push(`${refused.length} NATS permissions violations (first: ${refused[0]!.line.slice(0, 200)})`)

  const rows = windows.map((window) => row(window, traffic, env, lostIn.get(window.fault) ?? 0))
  for (const window of windows) {
    if (!window.healthyBefore) failures.push(`${window.fault}: the system was not healthy before the fault`)
    if (window.recoveredAt === undefined) failures.push(`${window.fault}: not recovered within 60 s`)
  }
  for (const r of rows) {
    if (r.lockedOut > 0) failures.push(`${r.fault}: ${r.lockedOut} devices locked out longer than the fault plus ${LOCKOUT_GRACE_MS / 1000} s`)
    if (r.crashes.length > 0) failures.push(`${r.fault}: crash nobody caused: ${r.crashes.join(', ')}`)
    if (r.duplicates > 0 || r.gaps > 0) failures.push(`${r.fault}: the gateway sent ${r.duplicates} duplicates and ${r.gaps} gaps`)
  }
  const unattributed = env.crashes.filter((exit) => !windows.some((window) => exitInWindow(exit, window)))
  if (unattributed.length > 0) failures.push(`crashes outside the faults: ${unattributed.map((exit) => exit.name).join(', ')}`)
  if ((lostIn.get('(outside faults)') ?? 0) > 0) failures.push(`${lostIn.get('(outside faults)')} lost outside the fault windows`)

  return {
    windows,
    rows,
    totals: {
      sends: traffic.sends.length,
      acked: traffic.sends.length - unacked.length,
      retried: traffic.sends.filter((send) => send.attempts > 1).length,
      events: events.length,
      devices: traffic.probes.length,
      deliveries
    },
    failures
  }
}

function exitInWindow(exit: { at: number }, window: FaultWindow): boolean {
  return exit.at >= window.startedAt && exit.at <= window.endedAt
}

/** Log lines worth a count in the table. */
const SIGNALS: Array<[string, RegExp]> = [
  ['nats slow consumer', /Slow Consumer Detected/],
  ['nats reconnect', /"NATS reconnected"/],
  ['relay re-published', /"relay published stranded events"/]
]

function row(window: FaultWindow, traffic: Traffic, env: ChaosEnvironment, lost: number): WindowRow {
  const inWindow = (at: number): boolean => at >= window.startedAt && at <= window.endedAt
  const signals = new Map<string, number>()
  for (const entry of env.logs) {
    if (!inWindow(entry.at)) continue
    for (const [name, pattern] of SIGNALS) if (pattern.test(entry.line)) signals.set(name, (signals.get(name) ?? 0) + 1)
  }
  const failures = new Map<string, number>()
  for (const failure of traffic.failureLog) if (inWindow(failure.at)) failures.set(failure.kind, (failures.get(failure.kind) ?? 0) + 1)
  const outages: Outage[] = traffic.probes.flatMap((probe) => probe.outages.filter((outage) => inWindow(outage.startedAt)))
  const allowedMs = window.healedAt - window.startedAt + LOCKOUT_GRACE_MS
  const closes = new Map<number, number>()
  let duplicates = 0
  let gaps = 0
  for (const probe of traffic.probes) {
    for (const event of probe.closeLog) if (inWindow(event.at)) closes.set(event.code, (closes.get(event.code) ?? 0) + 1)
    duplicates += probe.rawLog.filter((event) => inWindow(event.at) && event.kind === 'duplicate').length
    gaps += probe.rawLog.filter((event) => inWindow(event.at) && event.kind === 'gap').length
  }
  return {
    fault: window.fault,
    downSeconds: (window.healedAt - window.startedAt) / 1000,
    recoverSeconds: window.recoveredAt === undefined ? undefined : (window.recoveredAt - window.startedAt) / 1000,
    failures,
    reconnects: outages.length,
    longestOutageSeconds: Math.max(0, ...outages.map((outage) => outage.endedAt - outage.startedAt)) / 1000,
    closes,
    lost,
    duplicates,
    gaps,
    lockedOut: outages.filter((outage) => outage.endedAt - outage.startedAt > allowedMs).length,
    crashes: env.crashes.filter((exit) => exitInWindow(exit, window)).map((exit) => `${exit.name} (${exit.code ?? exit.signal})`),
    signals
  }
}

