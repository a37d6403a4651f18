// npm run bench:send: the send path as clients meet it, in services mode
// through the nginx gateway: autocannon POSTs /messages/:room_id/ over 50
// connections as 500 users in 100 rooms of 5. Prints requests/s, p50/p99,
// non-2xx answers and the CPU each process spent per send, in alternating
// rounds of each system compared, and the ratio of each to the first.
// Figures, never a timed test; results in bench-results/send.json.
//
//   BENCH_DURATION   seconds per round (15)          BENCH_ROUNDS    rounds per system (3)
//   BENCH_WARMUP     seconds before each round (3)    BENCH_CONNECTIONS  (50)
//   BENCH_BASELINE_DIR  a built checkout of another commit, run as the system "baseline"
//                       (git worktree add /tmp/base <commit> && cd /tmp/base && npm ci && npm run build)
//   BENCH_VARIANTS   more systems of this checkout with other settings: "name:VAR=value,VAR=value;name2:..."
//   BENCH_CPU_PROF   services to profile ("messages,realtime"): node's --cpu-prof, summed up by
//                       package once they stop; files in bench-results/profiles/<system>/
//   BENCH_PG_STATEMENTS=1  loads pg_stat_statements (track=all: the statements inside chat_send_messages
//                       too) and writes each system's costliest statements of its last round to
//                       bench-results/send-statements-<system>.txt
// Half way through the first round of the first system, it scrapes each service's /metrics
// (outbox, relay, pool, NATS, requests) into bench-results/send-metrics.txt.
import { generateKeyPairSync } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { sql } from 'kysely'
import { createDb } from '@chat/db'
import { descendantsOf, machineCpuSeconds, startPostgresServer } from '@chat/process-kit'
import { cpuProfileArgs, summarizeProfiles } from './profiles.js'
import { startSystem, type RunningSystem, type SystemSpec } from './system.js'

const env = process.env
const durationSeconds = Number(env.BENCH_DURATION ?? 15)
const rounds = Number(env.BENCH_ROUNDS ?? 3)
const warmupSeconds = Number(env.BENCH_WARMUP ?? 3)
const connections = Number(env.BENCH_CONNECTIONS ?? 50)
const statements = env.BENCH_PG_STATEMENTS === '1'
const profiled = (env.BENCH_CPU_PROF ?? '').split(',').filter(Boolean)
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const profileDir = (system: string): string => join(repoRoot, 'bench-results', 'profiles', system.replace(/\W+/g, '-'))

function systemSpecs(): SystemSpec[] {
  const specs: SystemSpec[] = [{ name: 'this checkout', root: repoRoot, env: {} }]
  for (const variant of (env.BENCH_VARIANTS ?? '').split(';').filter(Boolean)) {
    const [name, settings = ''] = variant.split(':')
    specs.push({ name: name!, root: repoRoot, env: Object.fromEntries(settings.split(',').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const)) })
  }
  if (env.BENCH_BASELINE_DIR) specs.push({ name: 'baseline', root: env.BENCH_BASELINE_DIR, env: {} })
  if (profiled.length === 0) return specs
  return specs.map((spec) => {
    rmSync(profileDir(spec.name), { recursive: true, force: true })
    return { ...spec, nodeArgs: cpuProfileArgs(profiled, profileDir(spec.name)) }
  })
}

/** Which part of the path a process is, from its command line. */
function roleOf(command: string): string | undefined {
  const service = /services\/(\w+)\/dist\/main\.js/.exec(command)
  if (service) return service[1]
  if (command.startsWith('nginx')) return 'nginx'
  if (/(^|\/)postgres( |$)/.test(command) || command.startsWith('postgres:')) return 'postgres'
  if (/nats-server/.test(command)) return 'nats'
  return undefined
}

interface CpuSample {
  /** CPU seconds so far of each process of the system under test (and PostgreSQL's shared workers), by pid. */
  processes: Map<number, { role: string; seconds: number }>
  bench: number
  machine: number
}

/**
 * Per process, so that a process that exits (an idle pool connection of the
 * other system) takes nothing away, and only the system under test counts:
 * the other systems idle beside it, with their own background work.
 */
function sampleCpu(system: RunningSystem): CpuSample {
  const all = descendantsOf(process.pid)
  const parentOf = new Map(all.map((info) => [info.pid, info.ppid]))
  const roots = system.rootPids()
  const ownedByLaunch = (pid: number): boolean => {
    for (let current: number | undefined = pid; current !== undefined && current !== process.pid; current = parentOf.get(current)) {
      if (roots.has(current)) return true
    }
    return false
  }
  const processes = new Map<number, { role: string; seconds: number }>()
  for (const info of all) {
    const role = roleOf(info.command)
    if (!role) continue
    // A backend names its database in its title; the checkpointer, WAL writer... serve whoever writes.
    const owned = role === 'postgres' ? !/^postgres: \S+ bench_/.test(info.command) || info.command.includes(system.databaseName) : ownedByLaunch(info.pid)
    if (owned) processes.set(info.pid, { role, seconds: info.cpuSeconds })
  }
  const usage = process.cpuUsage()
  return { processes, bench: (usage.user + usage.system) / 1e6, machine: machineCpuSeconds() }
}

function cpuDeltaByRole(before: CpuSample, after: CpuSample): Map<string, number> {
  const totals = new Map<string, number>()
  for (const [pid, { role, seconds }] of after.processes) {
    totals.set(role, (totals.get(role) ?? 0) + seconds - (before.processes.get(pid)?.seconds ?? 0))
  }
  totals.set('bench (autocannon)', after.bench - before.bench)
  totals.set('machine', after.machine - before.machine)
  return totals
}

interface Round {
  system: string
  requestsPerSecond: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  /** CPU microseconds per send, by role (messages, nginx, postgres, nats, ...). */
  cpuMicrosPerSend: Record<string, number>
}

let textCounter = 0
function load(system: RunningSystem, seconds: number): Promise<autocannon.Result> {
  let next = 0
  const senders = system.senders
  return autocannon({
    url: system.gatewayUrl,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const sender = senders[next++ % senders.length]!
          return {
            ...request,
            path: `/messages/${sender.roomId}/`,
            headers: { 'content-type': 'application/json', authorization: sender.authorization },
            body: JSON.stringify({ text: `benchmark message ${++textCounter}` })
          }
        }
      }
    ]
  })
}

/** The metrics that tell where a send waits, from each service's /metrics (what Prometheus would scrape). */
const SCRAPED = /^(room_events_outbox_\w+|room_events_relay_\w+|db_pool_\w+|nats_connected|nats_reconnects_total|bus_publish_failures_total|rate_limited_total|realtime_\w+_total|http_request_duration_seconds_count)(\{[^}]*\})? /

async function scrapeMetrics(system: RunningSystem): Promise<string> {
  const parts = await Promise.all(
    system.services.map(async ({ name, url }) => {
      try {
        const text = await (await fetch(`${url}/metrics`)).text()
        return text.split('\n').filter((line) => SCRAPED.test(line)).map((line) => `${name.padEnd(10)} ${line}`).join('\n')
      } catch (error) {
        return `${name.padEnd(10)} (no /metrics: ${String(error)})`
      }
    })
  )
  return parts.join('\n')
}

let scraped: string | undefined

async function resetStatements(system: RunningSystem): Promise<void> {
  const { db, destroy } = await createDb(system.databaseUrl, { poolSize: 1 })
  try {
    await sql`create extension if not exists pg_stat_statements`.execute(db)
    await sql`select pg_stat_statements_reset()`.execute(db)
  } finally {
    await destroy()
  }
}

/** The round's statements by total execution time, with time and rows per send (what PostgreSQL's share of a send is spent on). */
async function writeStatements(system: RunningSystem, sends: number): Promise<void> {
  const { db, destroy } = await createDb(system.databaseUrl, { poolSize: 1 })
  try {
    const { rows } = await sql<{ calls: string; total: number; plan: number; rows: string; query: string }>`
      select calls, total_exec_time as total, total_plan_time as plan, rows, query from pg_stat_statements
      where dbid = (select oid from pg_database where datname = current_database())
      order by total_exec_time + total_plan_time desc limit 25`.execute(db)
    const lines = rows.map((row) => `${((row.total * 1000) / sends).toFixed(1).padStart(7)} µs/send exec  ${((row.plan * 1000) / sends).toFixed(1).padStart(6)} plan  ${String(row.calls).padStart(8)} calls  ${String(row.rows).padStart(8)} rows  ${row.query.replace(/\s+/g, ' ').slice(0, 160)}`)
    // What the writes leave behind: dead row versions, HOT updates, and the vacuums they cost.
    const tables = await sql<{ relname: string; live: string; dead: string; updates: string; hot: string; vacuums: string; bytes: string }>`
      select relname, n_live_tup as live, n_dead_tup as dead, n_tup_upd as updates, n_tup_hot_upd as hot,
        autovacuum_count as vacuums, pg_total_relation_size(relid) as bytes
      from pg_stat_user_tables where relname in ('rooms', 'messages', 'room_events', 'room_events_outbox', 'room_participants', 'users') order by relname`.execute(db)
    const tableLines = tables.rows.map((row) => `${row.relname.padEnd(18)} live ${row.live}  dead ${row.dead}  updates ${row.updates} (HOT ${row.hot})  autovacuums ${row.vacuums}  ${(Number(row.bytes) / 2 ** 20).toFixed(1)} MiB with indexes`)
    const file = join(repoRoot, 'bench-results', `send-statements-${system.spec.name.replace(/\W+/g, '-')}.txt`)
    mkdirSync(join(repoRoot, 'bench-results'), { recursive: true })
    writeFileSync(file, `${sends} sends\n${lines.join('\n')}\n\ntables at the end of the round:\n${tableLines.join('\n')}\n`)
  } finally {
    await destroy()
  }
}
async function round(system: RunningSystem): Promise<Round> {
  await load(system, warmupSeconds)
  if (statements) await resetStatements(system)
  const before = sampleCpu(system)
  // Once, for the first system, half way through a round: /metrics under load.
  const scraping = scraped === undefined && system === systems[0] ? new Promise<void>((resolve) => setTimeout(() => void scrapeMetrics(system).then((text) => { scraped = text }).finally(resolve), (durationSeconds * 1000) / 2)) : undefined
  const result = await load(system, durationSeconds)
  await scraping
  const deltas = cpuDeltaByRole(before, sampleCpu(system))
  const sends = result.requests.total
  if (statements) await writeStatements(system, sends)
  const cpuMicrosPerSend: Record<string, number> = {}
  let pathTotal = 0
  for (const [role, seconds] of deltas) {
    const micros = (seconds * 1e6) / Math.max(1, sends)
    cpuMicrosPerSend[role] = Math.round(micros)
    if (role !== 'machine' && role !== 'bench (autocannon)') pathTotal += micros
  }
  cpuMicrosPerSend['path total'] = Math.round(pathTotal)
  return {
    system: system.spec.name,
    requestsPerSecond: Math.round(sends / durationSeconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpuMicrosPerSend
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!
}

const { privateKey } = generateKeyPairSync('ed25519')
const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
// fsync on, as in production: commits are what this measures.
const postgres = await startPostgresServer({
  durable: true,
  settings: { max_connections: '300', ...(statements ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all', 'pg_stat_statements.track_planning': 'on' } : {}) }
})
const systems: RunningSystem[] = []
try {
  const specs = systemSpecs()
  for (const [index, spec] of specs.entries()) {
    process.stdout.write(`starting ${spec.name} (${spec.root}${Object.keys(spec.env).length > 0 ? `, ${JSON.stringify(spec.env)}` : ''})\n`)
    systems.push(await startSystem(spec, { serverUrl: postgres.url, privateKeyPem, basePort: 24_000 + index * 40, rooms: 100, participantsPerRoom: 5, log: () => {} }))
  }
  const results: Round[] = []
  for (let index = 0; index < rounds; index++) {
    for (const system of systems) {
      const result = await round(system)
      results.push(result)
      const cpu = Object.entries(result.cpuMicrosPerSend).map(([role, micros]) => `${role} ${micros}`).join(', ')
      process.stdout.write(`round ${index + 1} ${result.system.padEnd(16)} ${String(result.requestsPerSecond).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  non-2xx ${result.non2xx}  errors ${result.errors}  CPU µs/send: ${cpu}\n`)
    }
  }
  process.stdout.write('\nmedians over the rounds (spread min..max):\n')
  const first = systems[0]!.spec.name
  const medianOf = (name: string, pick: (round: Round) => number): number => median(results.filter((round) => round.system === name).map(pick))
  for (const system of systems) {
    const mine = results.filter((entry) => entry.system === system.spec.name)
    const rps = mine.map((entry) => entry.requestsPerSecond)
    const ratio = system.spec.name === first ? '' : `  ratio ${first}/${system.spec.name}: ${(medianOf(first, (entry) => entry.requestsPerSecond) / medianOf(system.spec.name, (entry) => entry.requestsPerSecond)).toFixed(2)}x req/s, ${(medianOf(system.spec.name, (entry) => entry.cpuMicrosPerSend['path total']!) / medianOf(first, (entry) => entry.cpuMicrosPerSend['path total']!)).toFixed(2)}x less CPU per send`
    process.stdout.write(
      `${system.spec.name.padEnd(16)} ${medianOf(system.spec.name, (entry) => entry.requestsPerSecond)} req/s (${Math.min(...rps)}..${Math.max(...rps)}), p99 ${medianOf(system.spec.name, (entry) => entry.p99)} ms, CPU ${medianOf(system.spec.name, (entry) => entry.cpuMicrosPerSend['path total']!)} µs/send${ratio}\n`
    )
  }
  const resultsDir = join(repoRoot, 'bench-results')
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(join(resultsDir, 'send.json'), JSON.stringify({ at: new Date().toISOString(), durationSeconds, rounds, connections, results }, null, 2))
  if (scraped !== undefined) {
    writeFileSync(join(resultsDir, 'send-metrics.txt'), `${scraped}\n`)
    process.stdout.write(`\n/metrics of ${first}'s services half way through its first round (bench-results/send-metrics.txt):\n${scraped}\n`)
  }
} finally {
  for (const system of systems) await system.stop()
  await postgres.destroy()
}
// Written by each process as it exited.
for (const system of systems) {
  const lines = summarizeProfiles(profileDir(system.spec.name))
  if (lines.length > 0) process.stdout.write(`\nCPU profiles of ${system.spec.name} (self time by package, idle left out; ${profileDir(system.spec.name)}):\n${lines.join('\n')}\n`)
}
