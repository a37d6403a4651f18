// Benchmark of the realtime gateway: fan-out, end-to-end latency, delivery
// accounting and memory per idle socket, against running services on real
// PostgreSQL and NATS, with a bare `ws` broadcaster measured in the same run
// as the floor. Prints a table and writes bench-results/realtime.json. Never
// part of `npm test`.
//
//   npm run bench:realtime   (build first: npx turbo run build --filter=@chat/realtime... --filter=@chat/messages...)
//
// Environment:
//   BENCH_DURATION      s per scenario per side (10), split into BENCH_ROUNDS
//                       alternating gateway/floor rounds (2), after a
//                       BENCH_WARMUP s warm-up of each side (2)
//   BENCH_RATE_A        msg/s into 1 room x 1000 sockets (40 -> 40k deliveries/s: what this
//                       2-core machine sustains with the clients on it; see the ramp)
//   BENCH_RATE_B        msg/s into 100 rooms x 10 sockets (1000)
//   BENCH_RAMP_RATES    msg/s steps of the 1 x 1000 ramp ("20,40,60,80,100,120"); "" skips it
//   BENCH_RAMP_STEP     s per ramp step per side (3)
//   BENCH_MEMORY_SOCKETS idle sockets of the memory measurement (10000); 0 skips it
//   BENCH_WORKERS       client processes (2)
//   BENCH_PARTS         which parts run ("A,ramp,B,memory")
//   BENCH_PIN=1         pin the server under test to CPU 1 and our other processes to CPU 0 (taskset)
//   BENCH_HEAP_SNAPSHOT=1 heap snapshots of the memory run's gateway (diagnostics; compare with bench/heap-diff.ts)
//   BENCH_CPU_PROF=1    CPU profile of the gateway (fan-out runs) to bench-results/
//   DATABASE_URL, NATS_URL
//
// Processes: this one (set-up, the load generator that POSTs to the messages
// service, aggregation); the gateway (services/realtime/dist/main.js); the
// messages service (services/messages/dist/main.js, publishes over NATS); the
// floor (bench/floor.ts); BENCH_WORKERS client processes (bench/clients.ts,
// the typed client @chat/client). PostgreSQL and NATS are the running servers.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { Agent, request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { createChatClient, type ChatClient } from '@chat/client'
import { createDatabase, createDb, databaseUrl, dropDatabase, migrateToLatest } from '@chat/db'
import { createTokenSigner, generateSigningKey } from '@chat/service-kit'
import { bucketMs, histogramBuckets, type GroupStats, type SocketSpec } from './clients.js'

const env = process.env
const durationSeconds = Number(env.BENCH_DURATION ?? 10)
const rounds = Math.max(1, Number(env.BENCH_ROUNDS ?? 2))
const warmupSeconds = Number(env.BENCH_WARMUP ?? 2)
const rateA = Number(env.BENCH_RATE_A ?? 40)
const rateB = Number(env.BENCH_RATE_B ?? 1000)
const rampRates = (env.BENCH_RAMP_RATES ?? '20,40,60,80,100,120').split(',').filter((value) => value.trim() !== '').map(Number)
const rampStepSeconds = Number(env.BENCH_RAMP_STEP ?? 3)
const memorySockets = Number(env.BENCH_MEMORY_SOCKETS ?? 10_000)
const workerCount = Math.max(1, Number(env.BENCH_WORKERS ?? 2))
const pin = env.BENCH_PIN === '1'
// Which parts run: any of A, ramp, B, memory (all by default).
const parts = new Set((env.BENCH_PARTS ?? 'A,ramp,B,memory').split(',').map((part) => part.trim()))
const cpuProfile = env.BENCH_CPU_PROF === '1'
const natsUrl = env.NATS_URL ?? 'nats://127.0.0.1:4222'
const serverUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const databaseName = `chat_bench_rt_${Date.now()}`
const socketsA = 1000
const roomsB = 100
const socketsPerRoomB = 10
// A round ends when every socket has what it is owed, or when nothing arrived for this long (the rest is lost).
const drainMs = 3_000
const senderCap = 512
const targets = { ratio: 0.8, p99Ms: 50, bytesPerSocket: 10 * 1024 }

const here = fileURLToPath(new URL('.', import.meta.url))
const serviceRoot = join(here, '..')
const gatewayMain = join(serviceRoot, 'dist/main.js')
const messagesMain = join(serviceRoot, '../messages/dist/main.js')
const resultsDir = join(serviceRoot, 'bench-results')
const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const round1 = (value: number) => Number(value.toFixed(1))
const round2 = (value: number) => Number(value.toFixed(2))

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

// ---------------------------------------------------------------- processes

const children = new Set<ChildProcess>()

/**
 * A node child, through `sh` so that its open-file limit is raised to the hard
 * limit first (10k sockets need more than a common soft limit of 1024), and
 * through `taskset` when pinning. `exec` keeps the pid the node process's.
 */
function spawnNode(name: string, args: string[], options: { env?: Record<string, string>; ipc?: boolean; cpu?: number } = {}): ChildProcess {
  const command = [...(pin && options.cpu !== undefined ? ['taskset', '-c', String(options.cpu)] : []), process.execPath, ...args]
  const child = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...command], {
    cwd: serviceRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', ...(options.ipc ? (['ipc'] as const) : [])]
  })
  children.add(child)
  child.once('exit', (code, signal) => {
    children.delete(child)
    if (!stopping.has(child)) console.error(`# ${name} (pid ${child.pid}) exited: ${code ?? signal}`)
  })
  return child
}

const stopping = new Set<ChildProcess>()
async function stop(child: ChildProcess | undefined, timeoutMs = 15_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  stopping.add(child)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  await exited
  clearTimeout(timer)
}

async function waitReady(name: string, child: ChildProcess, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`)
    try {
      const response = await fetch(url)
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  throw new Error(`${name} not ready within ${timeoutMs} ms`)
}

/** A child with an IPC channel answering `{ id }`-tagged requests. */
class Rpc {
  private next = 1
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  readonly ready: Promise<Record<string, unknown>>

  constructor(readonly name: string, readonly child: ChildProcess) {
    let firstMessage: (value: Record<string, unknown>) => void = () => undefined
    this.ready = new Promise((resolve, reject) => {
      firstMessage = resolve
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)))
    })
    this.ready.catch(() => undefined)
    child.on('message', (message: { id?: number; result?: unknown; error?: string } & Record<string, unknown>) => {
      if (message.id === undefined) {
        firstMessage(message)
        return
      }
      const waiter = this.waiting.get(message.id)
      if (!waiter) return
      this.waiting.delete(message.id)
      if (message.error) waiter.reject(new Error(`${name}: ${message.error}`))
      else waiter.resolve(message.result ?? message)
    })
    child.once('exit', (code) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`${name} exited with ${code}`))
      this.waiting.clear()
    })
  }

  call<T>(command: Record<string, unknown>): Promise<T> {
    const id = this.next++
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.child.send({ ...command, id })
    })
  }
}

// ---------------------------------------------------------------- /proc

const clockTicks = 100
function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / clockTicks
  } catch {
    return 0
  }
}

/** CPU seconds of every process whose name is `comm` (PostgreSQL backends, nats-server). */
function cpuSecondsByName(comm: string): number {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) total += cpuSecondsOf(Number(entry))
    } catch {
      // gone
    }
  }
  return total
}

function statusKiB(pid: number | undefined, field: string): number {
  if (pid === undefined) return 0
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) : 0
}

function openFileLimit(pid: number | undefined): string {
  if (pid === undefined) return '?'
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))
  return match ? `${match[1]}/${match[2]}` : '?'
}

function totalCpuSeconds(): number {
  const [line] = readFileSync('/proc/stat', 'utf8').split('\n')
  const fields = (line ?? '').trim().split(/\s+/).slice(1).map(Number)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  return (fields.reduce((sum, value) => sum + value, 0) - idle) / clockTicks
}

interface CpuSnapshot {
  at: number
  byProcess: Record<string, number>
}

const tracked: Record<string, () => number | undefined> = {}
function snapshotCpu(): CpuSnapshot {
  const byProcess: Record<string, number> = {}
  for (const [name, pidOf] of Object.entries(tracked)) byProcess[name] = cpuSecondsOf(pidOf())
  byProcess.benchmark = process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6
  byProcess.postgres = cpuSecondsByName('postgres')
  byProcess['nats-server'] = cpuSecondsByName('nats-server')
  byProcess.machine = totalCpuSeconds()
  return { at: performance.now(), byProcess }
}

/** Each process's CPU over the interval, in % of one core. */
function cpuPercent(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const seconds = (after.at - before.at) / 1000
  const percent: Record<string, number> = {}
  // Max 0: a PostgreSQL backend that ended during the interval takes its CPU time with it.
  for (const [name, value] of Object.entries(after.byProcess)) percent[name] = Math.max(0, Math.round((100 * (value - (before.byProcess[name] ?? 0))) / seconds))
  percent.others = percent.machine! - Object.entries(percent).filter(([name]) => name !== 'machine').reduce((sum, [, value]) => sum + value, 0)
  return percent
}

// ---------------------------------------------------------------- figures

function percentileOf(histogram: Int32Array, total: number, p: number): number {
  if (total === 0) return 0
  const rank = Math.ceil((p / 100) * total)
  let seen = 0
  for (let bucket = 0; bucket < histogram.length; bucket++) {
    seen += histogram[bucket]!
    if (seen >= rank) return bucketMs(bucket)
  }
  return bucketMs(histogram.length - 1)
}

interface RoundResult {
  side: 'gateway' | 'floor'
  sockets: number
  /** Messages per second offered (the pacing target). */
  rate: number
  /** Messages per second actually sent (POSTs accepted, or frames made by the floor). */
  msgs_per_second: number
  deliveries: number
  deliveries_per_second: number
  offered_deliveries_per_second: number
  latency_p50_ms: number
  latency_p99_ms: number
  latency_p999_ms: number
  latency_max_ms: number
  /** From the message's created_at (set by the messages service before its transaction; ms resolution) to receipt. */
  from_created_p50_ms: number
  from_created_p99_ms: number
  missing_sample: Array<{ roomId: string; seq: number; sockets: number }>
  lost: number
  duplicated: number
  reordered: number
  incomplete_sockets: number
  reconnects: number
  closes: Record<string, number>
  frame_bytes: number
  post_p50_ms?: number
  post_p99_ms?: number
  post_failures?: number
  sender_behind?: number
  cpu_percent: Record<string, number>
  /** Gateway side: deltas of the gateway's counters over the round. */
  gateway_counters?: Record<string, number>
  server_cpu_us_per_delivery: number
  seconds: number
}

function merged(parts: GroupStats[], pick: (part: GroupStats) => Array<[number, number]>): { histogram: Int32Array; samples: number } {
  const histogram = new Int32Array(histogramBuckets)
  let samples = 0
  for (const part of parts) for (const [bucket, count] of pick(part)) {
    histogram[bucket]! += count
    samples += count
  }
  return { histogram, samples }
}

function summarize(side: 'gateway' | 'floor', rate: number, sent: number, startedAt: number, endedAt: number, parts: GroupStats[], cpu: Record<string, number>, cpuSeconds: number): RoundResult {
  const { histogram, samples } = merged(parts, (part) => part.histogram)
  const created = merged(parts, (part) => part.fromCreated)
  let max = 0
  for (let bucket = histogram.length - 1; bucket >= 0; bucket--) if (histogram[bucket]) {
    max = bucketMs(bucket)
    break
  }
  const sum = (pick: (part: GroupStats) => number) => parts.reduce((total, part) => total + pick(part), 0)
  const deliveries = sum((part) => part.deliveries)
  const lastAt = Math.max(...parts.map((part) => part.lastAt))
  const sockets = sum((part) => part.sockets)
  const closes: Record<string, number> = {}
  for (const part of parts) for (const [code, count] of Object.entries(part.closes)) closes[code] = (closes[code] ?? 0) + count
  const frames = parts.filter((part) => part.frameBytes > 0)
  return {
    side,
    sockets,
    rate,
    msgs_per_second: round1(sent / ((endedAt - startedAt) / 1000)),
    deliveries,
    deliveries_per_second: deliveries > 0 ? Math.round(deliveries / ((Math.max(lastAt, endedAt) - startedAt) / 1000)) : 0,
    offered_deliveries_per_second: Math.round((rate * sockets) / (groupsRooms.get(currentGroup) ?? 1)),
    latency_p50_ms: round2(percentileOf(histogram, samples, 50)),
    latency_p99_ms: round2(percentileOf(histogram, samples, 99)),
    latency_p999_ms: round2(percentileOf(histogram, samples, 99.9)),
    latency_max_ms: round2(max),
    from_created_p50_ms: round2(percentileOf(created.histogram, created.samples, 50)),
    from_created_p99_ms: round2(percentileOf(created.histogram, created.samples, 99)),
    missing_sample: parts.flatMap((part) => part.missing).slice(0, 10),
    lost: sum((part) => part.lost),
    duplicated: sum((part) => part.duplicates),
    reordered: sum((part) => part.reordered),
    incomplete_sockets: sockets - sum((part) => part.complete),
    reconnects: sum((part) => part.reconnects),
    closes,
    frame_bytes: Math.round(frames.reduce((total, part) => total + part.frameBytes, 0) / Math.max(1, frames.length)),
    cpu_percent: cpu,
    server_cpu_us_per_delivery: deliveries > 0 ? round2((cpuSeconds * 1e6) / deliveries) : 0,
    seconds: round2((endedAt - startedAt) / 1000)
  }
}
// The number of rooms of the group being measured (offered deliveries = rate x sockets per room).
const groupsRooms = new Map<string, number>()
let currentGroup = ''

// ---------------------------------------------------------------- the run

/** Which build of the gateway ran: a hash of its dist/*.js. */
function distFingerprint(): string {
  const hash = createHash('sha256')
  const dist = join(serviceRoot, 'dist')
  for (const name of readdirSync(dist).filter((file) => file.endsWith('.js')).sort()) hash.update(name).update(readFileSync(join(dist, name)))
  return hash.digest('hex').slice(0, 12)
}
const gatewayBuild = distFingerprint()
console.log(`# realtime benchmark; gateway build ${gatewayBuild} (sha256 of dist/*.js); ${cpus().length} CPUs; load average ${loadavg().map((value) => value.toFixed(2)).join(' ')} (before)`)
await createDatabase(serverUrl, databaseName)
const database = await createDb(databaseUrl(serverUrl, databaseName), { poolSize: 5 })
const db = database.db
let gateway: ChildProcess | undefined
let messages: ChildProcess | undefined
let floor: ChildProcess | undefined
const workers: Rpc[] = []
const memoryFile = join(tmpdir(), `realtime-bench-memory-${process.pid}.jsonl`)
try {
  await migrateToLatest(db)
  const signer = createTokenSigner(generateSigningKey(), 3600)

  // Users: A's 1000 sockets are 1000 users in one room; B's 1000 are the same
  // users, 10 to a room; the memory run's sockets are one per user, 10 users a room.
  const userCount = Math.max(socketsA, roomsB * socketsPerRoomB, memorySockets)
  const users: Array<SocketSpec['user'] & { token: string }> = []
  for (let from = 0; from < userCount; from += 1000) {
    const rows = await db
      .insertInto('users')
      .values(Array.from({ length: Math.min(1000, userCount - from) }, (_, index) => ({
        display_name: `bench-${from + index}`,
        display_name_key: `bench-${from + index}`,
        password_hash: 'x'
      })))
      .returning(['id', 'display_name', 'created_at'])
      .execute()
    for (const row of rows) {
      users.push({ id: row.id, display_name: row.display_name, created_at: row.created_at.toISOString(), token: signer.sign({ id: row.id, displayName: row.display_name }).token })
    }
  }
  const createRoom = async (name: string, members: typeof users): Promise<string> => {
    const { id } = await db.insertInto('rooms').values({ name, created_by: members[0]!.id }).returning('id').executeTakeFirstOrThrow()
    for (let from = 0; from < members.length; from += 1000) {
      await db
        .insertInto('room_participants')
        .values(members.slice(from, from + 1000).map((member, index) => ({ room_id: id, user_id: member.id, role: from + index === 0 ? ('owner' as const) : ('member' as const) })))
        .execute()
    }
    return id
  }
  const roomA = await createRoom('bench A', users.slice(0, socketsA))
  const roomsOfB: string[] = []
  for (let room = 0; room < roomsB; room++) roomsOfB.push(await createRoom(`bench B ${room}`, users.slice(room * socketsPerRoomB, (room + 1) * socketsPerRoomB)))
  const roomsOfMemory: string[] = []
  for (let room = 0; room * 10 < memorySockets; room++) roomsOfMemory.push(await createRoom(`bench M ${room}`, users.slice(room * 10, room * 10 + 10)))
  const spec = (user: (typeof users)[number], roomId: string): SocketSpec => ({
    roomId,
    token: user.token,
    user: { id: user.id, display_name: user.display_name, created_at: user.created_at }
  })
  const specsA = users.slice(0, socketsA).map((user) => spec(user, roomA))
  const specsB = users.slice(0, roomsB * socketsPerRoomB).map((user, index) => spec(user, roomsOfB[Math.floor(index / socketsPerRoomB)]!))
  const specsMemory = users.slice(0, memorySockets).map((user, index) => spec(user, roomsOfMemory[Math.floor(index / 10)]!))

  // The services, each in its own process, from their built dist/.
  const serviceEnv = (port: number): Record<string, string> => ({
    DATABASE_URL: databaseUrl(serverUrl, databaseName),
    NATS_URL: natsUrl,
    JWT_PUBLIC_KEY: signer.key.publicKeyPem,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    // The load generator sends as few users at 1000 msg/s: the per-user HTTP limit is off.
    RATE_LIMIT_USER_RPS: '0',
    NODE_ENV: 'production'
  })
  const messagesPort = await freePort()
  messages = spawnNode('messages service', [messagesMain], { env: { ...serviceEnv(messagesPort), DATABASE_POOL_SIZE: '20' }, cpu: 0 })
  const messagesUrl = `http://127.0.0.1:${messagesPort}`
  const startGateway = async (extraArgs: string[], extraEnv: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> => {
    const port = await freePort()
    const child = spawnNode('gateway', [...extraArgs, gatewayMain], { env: { ...serviceEnv(port), ...extraEnv }, cpu: 1 })
    const url = `http://127.0.0.1:${port}`
    await waitReady('gateway', child, `${url}/readyz`)
    return { child, url }
  }
  const started = await startGateway(cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${resultsDir}`] : [])
  gateway = started.child
  const gatewayUrl = started.url
  await waitReady('messages service', messages, `${messagesUrl}/readyz`)
  floor = spawnNode('floor', ['--import', 'tsx', join(here, 'floor.ts')], { ipc: true, cpu: 1 })
  const floorRpc = new Rpc('floor', floor)
  const floorUrl = String((await floorRpc.ready).listening)
  for (let index = 0; index < workerCount; index++) {
    const child = spawnNode(`client worker ${index}`, ['--import', 'tsx', join(here, 'clients.ts')], { ipc: true, cpu: 0 })
    workers.push(new Rpc(`client worker ${index}`, child))
  }
  await Promise.all(workers.map((worker) => worker.ready))
  tracked.gateway = () => gateway?.pid
  tracked['messages service'] = () => messages?.pid
  tracked.floor = () => floor?.pid
  workers.forEach((worker, index) => (tracked[`client worker ${index}`] = () => worker.child.pid))
  const placement = pin
    ? 'pinned: server under test (gateway or floor) on CPU 1; messages service and client workers on CPU 0; PostgreSQL, NATS, this process unpinned'
    : 'no pinning: the OS schedules every process on both CPUs'
  console.log(`# processes: gateway pid ${gateway.pid} (dist/main.js), messages service pid ${messages.pid} (dist/main.js, NATS publisher), floor pid ${floor.pid} (bare ws), ${workerCount} client workers (typed client) pids ${workers.map((worker) => worker.child.pid).join(', ')}, load generator = this process (pid ${process.pid}); PostgreSQL and NATS as running`)
  console.log(`# ${placement}; open-file limit of the gateway ${openFileLimit(gateway.pid)}, of a client worker ${openFileLimit(workers[0]!.child.pid)}`)

  // ------------------------------------------------------------ sockets

  const openGroup = async (group: string, baseUrl: string, specs: SocketSpec[], tap = true, concurrency = 50): Promise<number> => {
    const parts = workers.map((_, index) => specs.filter((__, specIndex) => specIndex % workers.length === index))
    const results = await Promise.all(
      workers.map((worker, index) => worker.call<{ opened: number; failed: number; errors: string[] }>({ cmd: 'open', group, baseUrl, sockets: parts[index], concurrency, tap }))
    )
    const opened = results.reduce((sum, result) => sum + result.opened, 0)
    const failed = results.reduce((sum, result) => sum + result.failed, 0)
    if (failed > 0) console.log(`# ${group}: ${failed} sockets failed to subscribe: ${results.flatMap((result) => result.errors).join('; ')}`)
    groupsRooms.set(group, new Set(specs.map((item) => item.roomId)).size)
    return opened
  }
  const closeGroup = (group: string) => Promise.all(workers.map((worker) => worker.call({ cmd: 'close', group })))

  // ------------------------------------------------------------ load

  interface RoomPlan {
    roomId: string
    senders: ChatClient[]
  }
  // The senders' HTTP: the typed client over node:http with keep-alive. Node 20's
  // global fetch (undici) costs about three times the CPU per request, and the
  // load generator shares the two cores with what it measures.
  const senderAgent = new Agent({ keepAlive: true, maxSockets: 64 })
  const senderFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
    new Promise((resolve, reject) => {
      const outgoing = httpRequest(String(input), { method: init?.method ?? 'GET', headers: init?.headers as Record<string, string>, agent: senderAgent }, (incoming) => {
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
  const sendersFor = (roomId: string, members: typeof users, count: number): RoomPlan => ({
    roomId,
    senders: members.slice(0, count).map((user) =>
      createChatClient({
        baseUrl: messagesUrl,
        fetch: senderFetch,
        session: { user: { id: user.id, display_name: user.display_name, created_at: user.created_at }, access_token: user.token, refresh_token: 'none', token_type: 'Bearer', expires_in: 3600 },
        WebSocket: WebSocket as never
      })
    )
  })
  const planA = [sendersFor(roomA, users.slice(0, socketsA), 10)]
  const planB = roomsOfB.map((roomId, room) => sendersFor(roomId, users.slice(room * socketsPerRoomB, (room + 1) * socketsPerRoomB), 2))

  const roomSeqs = async (roomIds: string[]): Promise<Record<string, number>> => {
    const rows = await db.selectFrom('rooms').select(['id', 'last_seq']).where('id', 'in', roomIds).execute()
    return Object.fromEntries(rows.map((row) => [row.id, Number(row.last_seq)]))
  }

  /** The load generator: POSTs through the typed client at `rate` per second, round-robin over the rooms, paced every millisecond. */
  const driveGateway = async (plan: RoomPlan[], rate: number, seconds: number) => {
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
        const client = room.senders[turn % room.senders.length]!
        const begin = performance.now()
        const request = client.messages
          .send(room.roomId, { text: `bench ${now().toFixed(3)}`, client_msg_id: randomUUID() })
          .then(
            () => void postLatencies.push(performance.now() - begin),
            (error: { status?: number }) => {
              failures++
              statuses[String(error.status ?? 'network')] = (statuses[String(error.status ?? 'network')] ?? 0) + 1
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

  /** The gateway's own counters (its /metrics): events sent, bus duplicates dropped, gap fills from the store, resyncs. */
  const gatewayCounters = async (): Promise<Record<string, number>> => {
    try {
      const text = await (await fetch(`${gatewayUrl}/metrics`)).text()
      const counters: Record<string, number> = {}
      for (const name of ['events_sent', 'duplicates_dropped', 'gap_fills', 'resyncs', 'events_replayed']) {
        const match = new RegExp(`^realtime_${name}_total (\\d+)`, 'm').exec(text)
        if (match) counters[name] = Number(match[1])
      }
      return counters
    } catch {
      return {}
    }
  }

  const serverPid = (side: 'gateway' | 'floor') => (side === 'gateway' ? gateway?.pid : floor?.pid)

  const measure = async (side: 'gateway' | 'floor', group: string, rooms: string[], plan: RoomPlan[], rate: number, seconds: number): Promise<RoundResult> => {
    currentGroup = group
    const startSeqs = side === 'gateway' ? await roomSeqs(rooms) : (await floorRpc.call<{ seqs: Record<string, number> }>({ cmd: 'seqs', rooms })).seqs
    await Promise.all(workers.map((worker) => worker.call({ cmd: 'arm', group, startSeqs })))
    const before = snapshotCpu()
    const serverBefore = cpuSecondsOf(serverPid(side))
    let result: RoundResult
    if (side === 'gateway') {
      const countersBefore = await gatewayCounters()
      const drive = await driveGateway(plan, rate, seconds)
      const endSeqs = await roomSeqs(rooms)
      const parts = await Promise.all(workers.map((worker) => worker.call<GroupStats>({ cmd: 'collect', group, endSeqs, drainMs })))
      const serverCpu = cpuSecondsOf(serverPid(side)) - serverBefore
      result = summarize(side, rate, drive.accepted, drive.startedAt, drive.endedAt, parts, cpuPercent(before, snapshotCpu()), serverCpu)
      Object.assign(result, { post_p50_ms: drive.postP50, post_p99_ms: drive.postP99, post_failures: drive.failures, sender_behind: drive.behind })
      const countersAfter = await gatewayCounters()
      result.gateway_counters = Object.fromEntries(Object.entries(countersAfter).map(([name, value]) => [name, value - (countersBefore[name] ?? 0)]))
      if (drive.failures > 0) console.log(`#   POST failures: ${JSON.stringify(drive.statuses)}`)
    } else {
      const run = await floorRpc.call<{ startedAt: number; endedAt: number; emitted: number; endSeqs: Record<string, number> }>({ cmd: 'run', rate, seconds, rooms })
      const parts = await Promise.all(workers.map((worker) => worker.call<GroupStats>({ cmd: 'collect', group, endSeqs: run.endSeqs, drainMs })))
      const serverCpu = cpuSecondsOf(serverPid(side)) - serverBefore
      result = summarize(side, rate, run.emitted, run.startedAt, run.endedAt, parts, cpuPercent(before, snapshotCpu()), serverCpu)
    }
    return result
  }

  const describe = (result: RoundResult) =>
    `${result.side.padEnd(7)} ${String(result.msgs_per_second).padStart(7)} msg/s ${String(result.deliveries_per_second).padStart(7)} deliveries/s ` +
    `p50 ${result.latency_p50_ms} ms p99 ${result.latency_p99_ms} ms max ${result.latency_max_ms} ms (from created_at p50 ${result.from_created_p50_ms} p99 ${result.from_created_p99_ms}); lost ${result.lost}${result.lost ? ` ${JSON.stringify(result.missing_sample.slice(0, 3))}` : ''} dup ${result.duplicated} reord ${result.reordered}` +
    `${result.reconnects ? ` reconnects ${result.reconnects} ${JSON.stringify(result.closes)}` : ''}; frame ${result.frame_bytes} B; ` +
    `server ${result.server_cpu_us_per_delivery} µs CPU/delivery; CPU % ${JSON.stringify(result.cpu_percent)}` +
    `${result.gateway_counters ? `; gateway counters ${JSON.stringify(result.gateway_counters)}` : ''}` +
    `${result.post_p50_ms !== undefined ? `; POST p50 ${result.post_p50_ms} ms p99 ${result.post_p99_ms} ms${result.sender_behind ? `, ${result.sender_behind} not sent (sender cap)` : ''}` : ''}`

  interface ScenarioResult {
    name: string
    sockets: number
    rooms: number
    rate: number
    gateway: RoundResult
    floor: RoundResult
    ratio: number
    per_round: Array<{ gateway: RoundResult; floor: RoundResult; ratio: number }>
  }

  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b)
    const middle = Math.floor(sorted.length / 2)
    return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  }
  /** Sums the counts of the rounds and takes the medians of the rates and latencies. */
  const combine = (results: RoundResult[]): RoundResult => ({
    ...results[0]!,
    msgs_per_second: round1(median(results.map((result) => result.msgs_per_second))),
    deliveries: results.reduce((sum, result) => sum + result.deliveries, 0),
    deliveries_per_second: Math.round(median(results.map((result) => result.deliveries_per_second))),
    latency_p50_ms: round2(median(results.map((result) => result.latency_p50_ms))),
    latency_p99_ms: round2(median(results.map((result) => result.latency_p99_ms))),
    latency_p999_ms: round2(median(results.map((result) => result.latency_p999_ms))),
    latency_max_ms: Math.max(...results.map((result) => result.latency_max_ms)),
    from_created_p50_ms: round2(median(results.map((result) => result.from_created_p50_ms))),
    from_created_p99_ms: round2(median(results.map((result) => result.from_created_p99_ms))),
    missing_sample: results.flatMap((result) => result.missing_sample).slice(0, 10),
    lost: results.reduce((sum, result) => sum + result.lost, 0),
    duplicated: results.reduce((sum, result) => sum + result.duplicated, 0),
    reordered: results.reduce((sum, result) => sum + result.reordered, 0),
    incomplete_sockets: Math.max(...results.map((result) => result.incomplete_sockets)),
    reconnects: results.reduce((sum, result) => sum + result.reconnects, 0),
    server_cpu_us_per_delivery: round2(median(results.map((result) => result.server_cpu_us_per_delivery))),
    post_p50_ms: results[0]!.post_p50_ms === undefined ? undefined : round2(median(results.map((result) => result.post_p50_ms ?? 0))),
    post_p99_ms: results[0]!.post_p99_ms === undefined ? undefined : round2(median(results.map((result) => result.post_p99_ms ?? 0))),
    seconds: round2(results.reduce((sum, result) => sum + result.seconds, 0))
  })

  const scenario = async (name: string, specs: SocketSpec[], rooms: string[], plan: RoomPlan[], rate: number): Promise<ScenarioResult> => {
    const openedAt = performance.now()
    const gatewayOpened = await openGroup(`${name}-gateway`, gatewayUrl, specs)
    const floorOpened = await openGroup(`${name}-floor`, floorUrl, specs)
    console.log(`\n## scenario ${name}: ${rooms.length} room(s) x ${specs.length / rooms.length} sockets at ${rate} msg/s (offered ${Math.round((rate * specs.length) / rooms.length)} deliveries/s); sockets open: gateway ${gatewayOpened}, floor ${floorOpened} (${((performance.now() - openedAt) / 1000).toFixed(1)} s)`)
    if (warmupSeconds > 0) {
      await measure('gateway', `${name}-gateway`, rooms, plan, rate, warmupSeconds)
      await measure('floor', `${name}-floor`, rooms, plan, rate, warmupSeconds)
    }
    const perRound: ScenarioResult['per_round'] = []
    for (let round = 1; round <= rounds; round++) {
      const gatewayRound = await measure('gateway', `${name}-gateway`, rooms, plan, rate, durationSeconds / rounds)
      console.log(`round ${round} ${describe(gatewayRound)}`)
      const floorRound = await measure('floor', `${name}-floor`, rooms, plan, rate, durationSeconds / rounds)
      console.log(`round ${round} ${describe(floorRound)}`)
      perRound.push({ gateway: gatewayRound, floor: floorRound, ratio: round2(gatewayRound.deliveries_per_second / Math.max(1, floorRound.deliveries_per_second)) })
    }
    const gatewayFigures = combine(perRound.map((entry) => entry.gateway))
    const floorFigures = combine(perRound.map((entry) => entry.floor))
    return {
      name,
      sockets: specs.length,
      rooms: rooms.length,
      rate,
      gateway: gatewayFigures,
      floor: floorFigures,
      ratio: round2(median(perRound.map((entry) => entry.ratio))),
      per_round: perRound
    }
  }

  const scenarios: ScenarioResult[] = []
  const loadBefore = loadavg()
  if (parts.has('A')) scenarios.push(await scenario('A', specsA, [roomA], planA, rateA))

  // The ramp: 1 room x 1000 sockets, rising rates, each side alternately, until a side no longer keeps up.
  interface RampStep {
    rate: number
    offered_deliveries_per_second: number
    gateway?: RoundResult & { sustained: boolean; shortfall: string[] }
    floor?: RoundResult & { sustained: boolean; shortfall: string[] }
  }
  const ramp: RampStep[] = []
  /** Why a step does not count as sustained (empty: it does). */
  const shortfall = (result: RoundResult): string[] => [
    ...(result.msgs_per_second < 0.95 * result.rate ? [`${result.side === 'gateway' ? 'POSTs accepted' : 'frames made'} ${result.msgs_per_second}/s < 95% of ${result.rate}`] : []),
    ...(result.deliveries_per_second < 0.95 * result.offered_deliveries_per_second ? [`deliveries ${result.deliveries_per_second}/s < 95% of offered`] : []),
    ...(result.lost > 0 ? [`${result.lost} lost`] : []),
    ...(result.latency_p99_ms >= 1000 ? [`p99 ${result.latency_p99_ms} ms >= 1 s`] : [])
  ]
  if (rampRates.length > 0 && parts.has('ramp')) {
    if (!parts.has('A')) {
      await openGroup('A-gateway', gatewayUrl, specsA)
      await openGroup('A-floor', floorUrl, specsA)
    }
    console.log(`\n## ramp: 1 room x ${socketsA} sockets, ${rampStepSeconds} s per step and side; sustained = messages made and deliveries/s >= 95% of offered, nothing lost, p99 < 1 s; a failed step is retried once`)
    const alive = { gateway: true, floor: true }
    for (const rate of rampRates) {
      if (!alive.gateway && !alive.floor) break
      const step: RampStep = { rate, offered_deliveries_per_second: rate * socketsA }
      for (const side of ['gateway', 'floor'] as const) {
        if (!alive[side]) continue
        let result = await measure(side, `A-${side}`, [roomA], planA, rate, rampStepSeconds)
        let reasons = shortfall(result)
        if (reasons.length > 0) {
          // One retry after a pause: on a shared machine a burst of someone else's load can sink a single step.
          console.log(`ramp ${String(rate).padStart(4)} msg/s retry (${reasons.join('; ')}) ${describe(result)}`)
          await sleep(3000)
          result = await measure(side, `A-${side}`, [roomA], planA, rate, rampStepSeconds)
          reasons = shortfall(result)
        }
        const ok = reasons.length === 0
        step[side] = { ...result, sustained: ok, shortfall: reasons }
        console.log(`ramp ${String(rate).padStart(4)} msg/s ${ok ? 'ok  ' : `FAIL (${reasons.join('; ')})`} ${describe(result)}`)
        if (!ok) alive[side] = false
        // A side that fell behind may still be flushing: let it settle before the other side runs.
        if (!ok) await sleep(2000)
      }
      ramp.push(step)
    }
  }
  await closeGroup('A-gateway')
  await closeGroup('A-floor')

  if (parts.has('B')) {
    scenarios.push(await scenario('B', specsB, roomsOfB, planB, rateB))
    await closeGroup('B-gateway')
    await closeGroup('B-floor')
  }
  const loadAfter = loadavg()
  await stop(gateway)
  gateway = undefined

  // ------------------------------------------------------------ memory

  let memory: Record<string, unknown> | undefined
  if (memorySockets > 0 && parts.has('memory')) {
    console.log(`\n## memory: ${memorySockets} idle authenticated sockets (one room each, 10 per room) on a fresh gateway process`)
    await rm(memoryFile, { force: true })
    // BENCH_HEAP_SNAPSHOT=1 (diagnostics): heap snapshots before and after, compared by bench/heap-diff.ts; they inflate the RSS read after them.
    const snapshotDir = env.BENCH_HEAP_SNAPSHOT === '1' ? tmpdir() : undefined
    const fresh = await startGateway(['--expose-gc', '--import', join(here, 'gc-signal.mjs')], {
      BENCH_MEMORY_FILE: memoryFile,
      ...(snapshotDir ? { BENCH_HEAP_SNAPSHOT_DIR: snapshotDir } : {})
    })
    gateway = fresh.child
    const pid = gateway.pid
    const gcAndRead = async (): Promise<Record<string, number>> => {
      const lines = existsSync(memoryFile) ? (await readFile(memoryFile, 'utf8')).trim().split('\n').length : 0
      gateway?.kill('SIGUSR2')
      const deadline = Date.now() + (snapshotDir ? 120_000 : 5_000)
      while (Date.now() < deadline) {
        await sleep(100)
        const content = existsSync(memoryFile) ? (await readFile(memoryFile, 'utf8')).trim().split('\n') : []
        if (content.length > lines) return JSON.parse(content[content.length - 1]!) as Record<string, number>
      }
      return {}
    }
    // Warm-up: the code paths of a connection run (JIT, pool connections) before the baseline.
    await openGroup('memory-warmup', fresh.url, specsMemory.slice(0, 200), false)
    await closeGroup('memory-warmup')
    await sleep(1500)
    const heapBefore = await gcAndRead()
    await sleep(500)
    const rssBefore = statusKiB(pid, 'VmRSS')
    const openedAt = performance.now()
    const opened = await openGroup('memory', fresh.url, specsMemory, false, 100)
    const openSeconds = (performance.now() - openedAt) / 1000
    await sleep(3000)
    const rssAfter = statusKiB(pid, 'VmRSS')
    const heapAfter = await gcAndRead()
    await sleep(1000)
    const rssAfterGc = statusKiB(pid, 'VmRSS')
    let socketsOpen: number | undefined
    try {
      const metrics = await (await fetch(`${fresh.url}/metrics`)).text()
      const match = /^realtime_sockets_open (\d+)/m.exec(metrics)
      socketsOpen = match ? Number(match[1]) : undefined
    } catch {
      // metrics are a sanity check only
    }
    const perSocket = (kib: number) => round2((kib * 1024) / Math.max(1, opened))
    memory = {
      sockets: opened,
      gateway_open_sockets_metric: socketsOpen,
      open_seconds: round2(openSeconds),
      rss_before_kib: rssBefore,
      rss_after_kib: rssAfter,
      rss_after_gc_kib: rssAfterGc,
      bytes_per_socket: perSocket(rssAfter - rssBefore),
      bytes_per_socket_after_gc: perSocket(rssAfterGc - rssBefore),
      heap_used_per_socket_after_gc: perSocket(((heapAfter.heapUsed ?? 0) - (heapBefore.heapUsed ?? 0)) / 1024),
      external_per_socket_after_gc: perSocket(((heapAfter.external ?? 0) - (heapBefore.external ?? 0)) / 1024),
      heap_before: heapBefore,
      heap_after_gc: heapAfter,
      open_file_limit: openFileLimit(pid)
    }
    console.log(
      `memory: ${opened} sockets open (gateway metric ${socketsOpen ?? '?'}) in ${openSeconds.toFixed(1)} s; VmRSS ${rssBefore} KiB -> ${rssAfter} KiB (${(perSocket(rssAfter - rssBefore) / 1024).toFixed(2)} KiB/socket), ` +
        `after a full GC ${rssAfterGc} KiB (${(perSocket(rssAfterGc - rssBefore) / 1024).toFixed(2)} KiB/socket); V8 heap used +${(perSocket(((heapAfter.heapUsed ?? 0) - (heapBefore.heapUsed ?? 0)) / 1024) / 1024).toFixed(2)} KiB/socket, ` +
        `external +${(perSocket(((heapAfter.external ?? 0) - (heapBefore.external ?? 0)) / 1024) / 1024).toFixed(2)} KiB/socket; open-file limit ${openFileLimit(pid)}`
    )
    await closeGroup('memory')
    await stop(gateway)
    gateway = undefined
  }

  // ------------------------------------------------------------ report

  const rampMax = (side: 'gateway' | 'floor') => {
    const steps = ramp.map((step) => step[side]).filter((result): result is RoundResult & { sustained: boolean; shortfall: string[] } => result !== undefined)
    const sustainedSteps = steps.filter((result) => result.sustained)
    return {
      max_sustained_deliveries_per_second: sustainedSteps.length ? Math.max(...sustainedSteps.map((result) => result.deliveries_per_second)) : 0,
      max_sustained_rate: sustainedSteps.length ? Math.max(...sustainedSteps.map((result) => result.rate)) : 0,
      peak_deliveries_per_second: steps.length ? Math.max(...steps.map((result) => result.deliveries_per_second)) : 0,
      first_failed_rate: steps.find((result) => !result.sustained)?.rate,
      first_failure: steps.find((result) => !result.sustained)?.shortfall
    }
  }
  const rampSummary = ramp.length ? { gateway: rampMax('gateway'), floor: rampMax('floor') } : undefined

  const mark = (ok: boolean) => (ok ? 'ok' : 'MISS')
  const header = ['scenario', 'sockets', 'msgs/s', 'deliveries/s', 'p50 ms', 'p99 ms', 'sent p99 ms', 'lost', 'dup', 'reord', 'floor deliv/s', 'floor p99 ms', 'ratio', 'CPU µs/deliv gw|floor']
  const rows = scenarios.map((entry) => [
    `${entry.name}: ${entry.rooms}x${entry.sockets / entry.rooms}`,
    String(entry.sockets),
    String(entry.gateway.msgs_per_second),
    String(entry.gateway.deliveries_per_second),
    String(entry.gateway.from_created_p50_ms),
    String(entry.gateway.from_created_p99_ms),
    String(entry.gateway.latency_p99_ms),
    String(entry.gateway.lost),
    String(entry.gateway.duplicated),
    String(entry.gateway.reordered),
    String(entry.floor.deliveries_per_second),
    String(entry.floor.latency_p99_ms),
    entry.ratio.toFixed(2),
    `${entry.gateway.server_cpu_us_per_delivery}|${entry.floor.server_cpu_us_per_delivery}`
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)))
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')
  console.log(`\n${line(header)}\n${widths.map((width) => '-'.repeat(width)).join('  ')}\n${rows.map(line).join('\n')}`)
  console.log('(median of the rounds for rates and latencies, sums for counts; p50/p99 = POST accepted (the message\'s created_at) -> frame received by the typed client; sent p99 = POST sent by the load generator -> frame received, which adds the wait for a saturated POST path; floor latency = frame made -> received;')
  console.log(' CPU µs/deliv = CPU time of the server process (gateway or floor) per delivery, from /proc/<pid>/stat, which the load of other processes does not inflate)')
  const scenarioB = scenarios.find((entry) => entry.name === 'B')
  const zeroFaults = scenarios.every((entry) => entry.gateway.lost + entry.gateway.duplicated + entry.gateway.reordered === 0)
  console.log('\ntargets:')
  for (const entry of scenarios) console.log(`  ratio gateway/floor ${entry.name} at ${entry.rate} msg/s: ${entry.ratio.toFixed(2)} (target >= ${targets.ratio}) ${mark(entry.ratio >= targets.ratio)}`)
  if (rampSummary) {
    const ratio = rampSummary.gateway.max_sustained_deliveries_per_second / Math.max(1, rampSummary.floor.max_sustained_deliveries_per_second)
    console.log(`  ramp 1x${socketsA}: max sustained deliveries/s gateway ${rampSummary.gateway.max_sustained_deliveries_per_second} (${rampSummary.gateway.max_sustained_rate} msg/s; first failed step ${rampSummary.gateway.first_failed_rate ?? 'none'}), floor ${rampSummary.floor.max_sustained_deliveries_per_second} (${rampSummary.floor.max_sustained_rate} msg/s; first failed step ${rampSummary.floor.first_failed_rate ?? 'none'}); ratio ${ratio.toFixed(2)} (target >= ${targets.ratio}) ${mark(ratio >= targets.ratio)}${rampSummary.gateway.first_failed_rate === undefined && rampSummary.floor.first_failed_rate === undefined ? ' (neither side reached its limit: raise BENCH_RAMP_RATES)' : ''}`)
  }
  if (scenarioB) console.log(`  p99 (POST accepted -> frame) at ${scenarioB.rate} msg/s offered (${scenarioB.gateway.msgs_per_second} accepted) into ${scenarioB.rooms} rooms x ${scenarioB.sockets / scenarioB.rooms} sockets: ${scenarioB.gateway.from_created_p99_ms} ms (target < ${targets.p99Ms} ms) ${mark(scenarioB.gateway.from_created_p99_ms < targets.p99Ms)}; from POST sent: ${scenarioB.gateway.latency_p99_ms} ms`)
  if (memory) {
    const perSocket = Number(memory.bytes_per_socket)
    const perSocketGc = Number(memory.bytes_per_socket_after_gc)
    console.log(`  memory per idle socket: ${(perSocket / 1024).toFixed(2)} KiB (after a forced full GC ${(perSocketGc / 1024).toFixed(2)} KiB) (target < ${targets.bytesPerSocket / 1024} KiB) ${mark(perSocket < targets.bytesPerSocket)}`)
  }
  console.log(`  lost/duplicated/reordered: ${scenarios.map((entry) => `${entry.name} ${entry.gateway.lost}/${entry.gateway.duplicated}/${entry.gateway.reordered}`).join(', ')} (target 0) ${mark(zeroFaults)}`)
  console.log(`# ${placement}; load average before the fan-out runs ${loadBefore.map((value) => value.toFixed(2)).join(' ')}, after ${loadAfter.map((value) => value.toFixed(2)).join(' ')}`)

  await mkdir(resultsDir, { recursive: true })
  await writeFile(
    join(resultsDir, 'realtime.json'),
    JSON.stringify(
      {
        benchmark: 'realtime gateway fan-out, latency, delivery accounting, memory per idle socket',
        at: new Date().toISOString(),
        cpus: cpus().length,
        gateway_build: gatewayBuild,
        load_average_before: loadBefore.map(round2),
        load_average_after: loadAfter.map(round2),
        processes: {
          gateway: 'services/realtime/dist/main.js (own process)',
          messages: 'services/messages/dist/main.js (own process, publishes over NATS)',
          floor: 'bench/floor.ts: bare ws WebSocketServer, no auth, no NATS, no DB (own process)',
          clients: `${workerCount} processes of bench/clients.ts using @chat/client (createChatClient + connect, ws WebSocket), for both sides`,
          load_generator: 'bench/realtime.ts: POST /messages/:room_id/ through @chat/client, paced every millisecond',
          placement
        },
        settings: { duration_seconds: durationSeconds, rounds, warmup_seconds: warmupSeconds, ramp_rates: rampRates, ramp_step_seconds: rampStepSeconds, nats: natsUrl, user_rps_limit: 0 },
        targets: { ratio_min: targets.ratio, p99_ms_max_scenario_b: targets.p99Ms, bytes_per_idle_socket_max: targets.bytesPerSocket, lost_duplicated_reordered: 0 },
        scenarios,
        ramp: rampSummary ? { summary: rampSummary, steps: ramp } : undefined,
        memory
      },
      null,
      2
    ) + '\n'
  )
  console.log(`figures written to ${join('bench-results', 'realtime.json')}`)
} finally {
  for (const worker of workers) {
    stopping.add(worker.child)
    if (worker.child.connected) worker.child.disconnect()
  }
  await Promise.all([stop(gateway), stop(messages), stop(floor)])
  for (const child of [...children]) await stop(child, 5_000)
  await rm(memoryFile, { force: true })
  await database.destroy()
  await sleep(500)
  await dropDatabase(serverUrl, databaseName)
}
