// What the scenarios run against: the gateway and the messages service from
// their built dist/, the floor, the client workers, and the operations on
// them: open and close a group of sockets, measure one round of one side.
import { join } from 'node:path'
import type { Kysely } from 'kysely'
import type { Database } from '@chat/db'
import { cpuSecondsOf, freePort, openFileLimit, waitHttpOk, type ManagedProcess } from '@chat/process-kit'
import type { GroupStats, SocketSpec } from './clients.js'
import { drainMs, paths, type BenchConfig } from './config.js'
import { CpuSampler, cpuPercent } from './cpu.js'
import { drive, type RoomPlan } from './load.js'
import { nodeProcess, Rpc } from './processes.js'
import { summarize, type RoundResult, type Side } from './results.js'

export interface Server {
  process: ManagedProcess
  url: string
}

export interface HarnessOptions {
  config: BenchConfig
  db: Kysely<Database>
  databaseUrl: string
  jwtPublicKey: string
}

export class Harness {
  gateway: Server | undefined
  messages: Server | undefined
  floor: { rpc: Rpc; url: string } | undefined
  readonly workers: Rpc[] = []
  readonly cpu = new CpuSampler()
  /** The number of rooms of each socket group (offered deliveries = rate x sockets per room). */
  private readonly groupRooms = new Map<string, number>()

  constructor(private readonly options: HarnessOptions) {}

  get config(): BenchConfig {
    return this.options.config
  }

  /** The services, each in its own process, from their built dist/; the floor; the client workers. */
  async start(): Promise<void> {
    const { config } = this
    const messagesPort = await freePort()
    const messages = nodeProcess('messages service', [...this.profileArgs('messages'), paths.messagesMain], { ...this.nodeOptions(0), env: { ...this.serviceEnv(messagesPort), DATABASE_POOL_SIZE: '20' } })
    this.messages = { process: messages.start(), url: `http://127.0.0.1:${messagesPort}` }
    this.gateway = await this.startGateway(this.profileArgs('gateway'))
    await waitHttpOk(`${this.messages.url}/readyz`, { process: messages })
    const floor = new Rpc(nodeProcess('floor', ['--import', 'tsx', join(paths.bench, 'floor.ts')], { ...this.nodeOptions(1), ipc: true }))
    this.floor = { rpc: floor, url: String((await floor.ready).listening) }
    for (let index = 0; index < config.workerCount; index++) {
      this.workers.push(new Rpc(nodeProcess(`client worker ${index}`, [...this.profileArgs('clients'), '--import', 'tsx', join(paths.bench, 'clients.ts')], { ...this.nodeOptions(0), ipc: true })))
    }
    await Promise.all(this.workers.map((worker) => worker.ready))
    this.cpu.track('gateway', () => this.gateway?.process.pid)
    this.cpu.track('messages service', () => this.messages?.process.pid)
    this.cpu.track('floor', () => this.floor?.rpc.pid)
    this.workers.forEach((worker, index) => this.cpu.track(`client worker ${index}`, () => worker.pid))
  }

  get placement(): string {
    return this.config.pin
      ? 'pinned: server under test (gateway or floor) on CPU 1; messages service and client workers on CPU 0; PostgreSQL, NATS, this process unpinned'
      : 'no pinning: the OS schedules every process on both CPUs'
  }

  describeProcesses(): string {
    return (
      `# processes: gateway pid ${this.gateway?.process.pid} (dist/main.js), messages service pid ${this.messages?.process.pid} (dist/main.js, NATS publisher), floor pid ${this.floor?.rpc.pid} (bare ws), ${this.config.workerCount} client workers (typed client) pids ${this.workers.map((worker) => worker.pid).join(', ')}, load generator = this process (pid ${process.pid}, ${this.config.sender === 'raw' ? 'lean HTTP/1.1 sender' : 'typed client'}); PostgreSQL and NATS as running\n` +
      `# ${this.placement}; open-file limit of the gateway ${openFileLimit(this.gateway?.process.pid)}, of a client worker ${openFileLimit(this.workers[0]?.pid)}`
    )
  }

  /** A gateway process, ready; the scenarios use one, the memory run a fresh one. */
  async startGateway(extraArgs: string[], extraEnv: Record<string, string> = {}): Promise<Server> {
    const port = await freePort()
    const child = nodeProcess('gateway', [...extraArgs, paths.gatewayMain], { ...this.nodeOptions(1), env: { ...this.serviceEnv(port), ...extraEnv } }).start()
    const url = `http://127.0.0.1:${port}`
    await waitHttpOk(`${url}/readyz`, { process: child })
    return { process: child, url }
  }

  async stopGateway(): Promise<void> {
    await this.gateway?.process.stop()
    this.gateway = undefined
  }

  async openGroup(group: string, baseUrl: string, specs: SocketSpec[], tap = true, concurrency = 50): Promise<number> {
    const { workers } = this
    const parts = workers.map((_, index) => specs.filter((__, specIndex) => specIndex % workers.length === index))
    const results = await Promise.all(
      workers.map((worker, index) => worker.call<{ opened: number; failed: number; errors: string[] }>({ cmd: 'open', group, baseUrl, sockets: parts[index], concurrency, tap }))
    )
    const opened = results.reduce((sum, result) => sum + result.opened, 0)
    const failed = results.reduce((sum, result) => sum + result.failed, 0)
    if (failed > 0) console.log(`# ${group}: ${failed} sockets failed to subscribe: ${results.flatMap((result) => result.errors).join('; ')}`)
    this.groupRooms.set(group, new Set(specs.map((item) => item.roomId)).size)
    return opened
  }

  async closeGroup(group: string): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.call({ cmd: 'close', group })))
  }

  /** One round of one side: the load (POSTs, or frames the floor makes), then what every socket of the group received. */
  async measure(side: Side, group: string, rooms: string[], plan: RoomPlan[], rate: number, seconds: number): Promise<RoundResult> {
    const floor = this.floor!
    const startSeqs = side === 'gateway' ? await this.roomSeqs(rooms) : (await floor.rpc.call<{ seqs: Record<string, number> }>({ cmd: 'seqs', rooms })).seqs
    await Promise.all(this.workers.map((worker) => worker.call({ cmd: 'arm', group, startSeqs })))
    const serverPid = (): number | undefined => (side === 'gateway' ? this.gateway?.process.pid : floor.rpc.pid)
    const before = this.cpu.snapshot()
    const serverBefore = cpuSecondsOf(serverPid())
    const collect = (endSeqs: Record<string, number>) => Promise.all(this.workers.map((worker) => worker.call<GroupStats>({ cmd: 'collect', group, endSeqs, drainMs })))
    const round = { side, rate, rooms: this.groupRooms.get(group) ?? 1 }
    if (side === 'floor') {
      const run = await floor.rpc.call<{ startedAt: number; endedAt: number; emitted: number; endSeqs: Record<string, number> }>({ cmd: 'run', rate, seconds, rooms })
      const parts = await collect(run.endSeqs)
      const serverCpuSeconds = cpuSecondsOf(serverPid()) - serverBefore
      return summarize({ ...round, sent: run.emitted, startedAt: run.startedAt, endedAt: run.endedAt, cpu: cpuPercent(before, this.cpu.snapshot()), serverCpuSeconds }, parts)
    }
    const countersBefore = await this.gatewayCounters()
    const load = await drive(plan, rate, seconds)
    const parts = await collect(await this.roomSeqs(rooms))
    const serverCpuSeconds = cpuSecondsOf(serverPid()) - serverBefore
    const result = summarize({ ...round, sent: load.accepted, startedAt: load.startedAt, endedAt: load.endedAt, cpu: cpuPercent(before, this.cpu.snapshot()), serverCpuSeconds }, parts)
    Object.assign(result, { post_p50_ms: load.postP50, post_p99_ms: load.postP99, post_failures: load.failures, sender_behind: load.behind })
    const countersAfter = await this.gatewayCounters()
    result.gateway_counters = Object.fromEntries(Object.entries(countersAfter).map(([name, value]) => [name, value - (countersBefore[name] ?? 0)]))
    if (load.failures > 0) console.log(`#   POST failures: ${JSON.stringify(load.statuses)}`)
    return result
  }

  /** Stops every process it started (each waits for its own stop). */
  async close(): Promise<void> {
    await Promise.all([this.gateway?.process.stop(), this.messages?.process.stop(), this.floor?.rpc.child.stop()])
    await Promise.all(this.workers.map((worker) => worker.child.stop(5_000)))
  }

  private async roomSeqs(roomIds: string[]): Promise<Record<string, number>> {
    const rows = await this.options.db.selectFrom('rooms').select(['id', 'last_seq']).where('id', 'in', roomIds).execute()
    return Object.fromEntries(rows.map((row) => [row.id, Number(row.last_seq)]))
  }

  /** The gateway's own counters (its /metrics): events sent, bus duplicates dropped, gap fills from the store, resyncs, and its delivery lag histogram's counts up to 50 ms. */
  private async gatewayCounters(): Promise<Record<string, number>> {
    try {
      const text = await (await fetch(`${this.gateway!.url}/metrics`)).text()
      const counters: Record<string, number> = {}
      for (const name of ['events_sent', 'duplicates_dropped', 'gap_fills', 'resyncs', 'events_replayed']) {
        const match = new RegExp(`^realtime_${name}_total (\\d+)`, 'm').exec(text)
        if (match) counters[name] = Number(match[1])
      }
      // The gateway's delivery lag (the message's created_at -> frame written to the sockets), as counts at or under each bound.
      for (const match of text.matchAll(/^realtime_delivery_lag_seconds_bucket\{le="(0\.005|0\.01|0\.025|0\.05)"\} (\d+)/gm)) counters[`lag_le_${Number(match[1]) * 1000}ms`] = Number(match[2])
      const count = /^realtime_delivery_lag_seconds_count (\d+)/m.exec(text)
      if (count) counters.lag_count = Number(count[1])
      return counters
    } catch {
      return {}
    }
  }

  private serviceEnv(port: number): Record<string, string> {
    return {
      DATABASE_URL: this.options.databaseUrl,
      NATS_URL: this.config.natsUrl,
      JWT_PUBLIC_KEY: this.options.jwtPublicKey,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      // The load generator sends as few users at 1000 msg/s: the per-user HTTP limit is off.
      RATE_LIMIT_USER_RPS: '0',
      NODE_ENV: 'production'
    }
  }

  /** Node's options for a CPU profile of `name`'s processes, when BENCH_CPU_PROF names them. */
  private profileArgs(name: string): string[] {
    return this.config.cpuProfile.has(name) ? ['--cpu-prof', `--cpu-prof-dir=${join(paths.resultsDir, name)}`] : []
  }

  private nodeOptions(cpu: number): { cwd: string; cpu: number; pin: boolean } {
    return { cwd: paths.serviceRoot, cpu, pin: this.config.pin }
  }
}
