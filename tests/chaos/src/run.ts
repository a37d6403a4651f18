// The chaos run: for each environment (one nats-server, then a cluster of
// three), start the system and the traffic, inject the faults one after the
// other, and check at the end what every device received against the store.
import { appendFileSync, readFileSync } from 'node:fs'
import { startEnvironment, type ChaosEnvironment } from './environment.js'
import { FAULTS, type Fault } from './faults.js'
import { Traffic, type TrafficOptions } from './traffic.js'
import { verify, type FaultWindow, type Verdict } from './verify.js'

export interface ChaosOptions {
  /** Names (or parts of names) of the faults to run; default all. */
  faults?: string[]
  /** How long each fault lasts before it is repaired. */
  holdMs?: number
  traffic?: Partial<TrafficOptions>
  /** Live progress. */
  progress?: (line: string) => void
  /** Where every process's log lines are written at the end of each environment (appended). */
  logFile?: string
}

export interface ChaosReport {
  windows: FaultWindow[]
  verdicts: Verdict[]
  /** Human-readable reasons the run failed; empty when it passed. */
  failures: string[]
}

const DEFAULT_TRAFFIC: TrafficOptions = {
  users: 40,
  rooms: 20,
  roomSize: 6,
  socketsPerUser: 2,
  messagesPerSecond: 50,
  socketShare: 0.2,
  maxInFlight: 400
}

const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms))

export async function runChaos(options: ChaosOptions = {}): Promise<ChaosReport> {
  const progress = options.progress ?? (() => {})
  const holdMs = options.holdMs ?? 5_000
  const selected = FAULTS.filter((fault) => !options.faults || options.faults.some((wanted) => fault.name.includes(wanted)))
  const report: ChaosReport = { windows: [], verdicts: [], failures: [] }
  for (const nats of ['single', 'cluster'] as const) {
    const faults = selected.filter((fault) => fault.nats === nats)
    if (faults.length === 0) continue
    progress(`== environment: ${nats === 'single' ? 'one nats-server' : 'a nats cluster of three'} (${faults.length} faults)`)
    const env = await startEnvironment({
      natsCluster: nats === 'cluster',
      // A small send queue, so that a device that stops reading overflows it within the fault's hold.
      // Forty registrations from one address within a minute are the run's own, not an attack.
      env: { WS_SEND_QUEUE_BYTES: '65536', RATE_LIMIT_AUTH_PER_MINUTE: '0' },
      progress
    })
    try {
      const verdict = await runEnvironment(env, faults, { ...DEFAULT_TRAFFIC, ...options.traffic }, holdMs, progress)
      report.windows.push(...verdict.windows)
      report.verdicts.push(verdict)
      report.failures.push(...verdict.failures)
    } finally {
      await env.stop()
      if (options.logFile) appendFileSync(options.logFile, `${env.logs.map((entry) => entry.line).join('\n')}\n`)
    }
  }
  return report
}

async function runEnvironment(env: ChaosEnvironment, faults: Fault[], trafficOptions: TrafficOptions, holdMs: number, progress: (line: string) => void): Promise<Verdict> {
  const traffic = new Traffic(env.gatewayUrl, trafficOptions)
  const windows: FaultWindow[] = []
  try {
    await traffic.setUp()
    progress(`   ${traffic.probes.length} devices of ${trafficOptions.users} users in ${traffic.rooms.length} rooms; ${trafficOptions.messagesPerSecond} messages/s`)
    traffic.start()
    await sleep(3_000)
    for (const fault of faults) {
      const context = { env, traffic, holdMs }
      const healthyBefore = await healthy(traffic, 60_000)
      const window: FaultWindow = { fault: fault.name, startedAt: Date.now(), healedAt: 0, recoveredAt: undefined, endedAt: 0, healthyBefore }
      progress(`-- ${fault.name}`)
      await fault.inject(context)
      await sleep(holdMs)
      await fault.heal(context)
      window.healedAt = Date.now()
      if (await healthy(traffic, 60_000)) window.recoveredAt = Date.now()
      await sleep(1_000)
      window.endedAt = Date.now()
      windows.push(window)
      progress(`   recovered ${window.recoveredAt ? `${((window.recoveredAt - window.startedAt) / 1000).toFixed(1)} s after the fault` : 'NOT within 60 s'}`)
    }
    await traffic.stopSending(60_000)
    const accessLog = env.services.gatewayAccessLog ? readFileSync(env.services.gatewayAccessLog, 'utf8') : ''
    return await verify({ env, traffic, windows, accessLog })
  } finally {
    traffic.close()
  }
}

/** Every device subscribed to all its rooms, and a message sent now reaches every device of its room. */
async function healthy(traffic: Traffic, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  const connected = await Promise.all(traffic.probes.map((probe) => probe.until(() => probe.healthy, timeoutMs)))
  if (!connected.every(Boolean)) return false
  try {
    await traffic.canary(Math.max(1_000, deadline - Date.now()))
    return true
  } catch {
    return false
  }
}
