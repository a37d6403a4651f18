// Benchmark of POST /messages/:room_id/ against its ceiling: the same SQL
// transaction driven directly with pg at the same concurrency. Prints figures
// and writes them to bench-results/send.json. Never part of `npm test`.
//
//   npm run bench:send    BENCH_DURATION (s per side, 20), BENCH_ROUNDS (4),
//                         BENCH_WARMUP (s, 3), BENCH_SERVICE_POOL (20),
//                         BENCH_CPU_PROF=1 (profile the service)
import { mkdir, writeFile } from 'node:fs/promises'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { cpus } from 'node:os'
import autocannon from 'autocannon'
import pg from 'pg'
import { createDatabase, createDb, databaseUrl, dropDatabase, migrateToLatest } from '@chat/db'
import { uuidv7 } from '@chat/room-events'
import { createTokenSigner, generateSigningKey } from '@chat/service-kit'
import { sendStatements } from '../src/messages.repository.js'

const durationSeconds = Number(process.env.BENCH_DURATION ?? 20)
// Each side runs durationSeconds in all, split into this many alternating rounds.
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 4))
// The service's own pool (its production default is 10). The ceiling's 50
// clients stay connected between rounds, so both together must fit in the
// server's max_connections (100 by default): a larger pool made PostgreSQL
// refuse connections, which the service rightly answered with 503s.
const servicePoolSize = Number(process.env.BENCH_SERVICE_POOL ?? 20)
const connections = 50
const roomCount = 100
const participantsPerRoom = 5
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const databaseName = `chat_bench_${Date.now()}`

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

interface Sender {
  roomId: string
  userId: string
  displayName: string
  createdAt: string
  token: string
}

await createDatabase(serverUrl, databaseName)
const database = await createDb(databaseUrl(serverUrl, databaseName), { poolSize: 5 })
let server: ChildProcess | undefined
async function stopServer(): Promise<void> {
  if (!server || server.exitCode !== null) return
  const exited = new Promise((resolve) => server?.once('exit', resolve))
  server.kill('SIGTERM')
  await exited
  server = undefined
}
try {
  await migrateToLatest(database.db)
  const db = database.db
  const signer = createTokenSigner(generateSigningKey(), 3600)
  const users = await db
    .insertInto('users')
    .values(Array.from({ length: roomCount * participantsPerRoom }, (_, index) => ({
      display_name: `bench-${index}`,
      display_name_key: `bench-${index}`,
      password_hash: 'x'
    })))
    .returning(['id', 'display_name', 'created_at'])
    .execute()
  const senders: Sender[] = []
  for (let room = 0; room < roomCount; room++) {
    const members = users.slice(room * participantsPerRoom, (room + 1) * participantsPerRoom)
    const { id: roomId } = await db.insertInto('rooms').values({ name: `room ${room}`, created_by: members[0]!.id }).returning('id').executeTakeFirstOrThrow()
    await db
      .insertInto('room_participants')
      .values(members.map((member, index) => ({ room_id: roomId, user_id: member.id, role: index === 0 ? ('owner' as const) : ('member' as const) })))
      .execute()
    for (const member of members) {
      senders.push({
        roomId,
        userId: member.id,
        displayName: member.display_name,
        createdAt: member.created_at.toISOString(),
        token: signer.sign({ id: member.id, displayName: member.display_name }).token
      })
    }
  }
  const pick = (): Sender => senders[Math.floor(Math.random() * senders.length)]!

  // The service in its own process (bench/server.ts), listening on 127.0.0.1.
  // BENCH_CPU_PROF=1 writes a CPU profile of the service to bench-results/.
  const profile = process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', '--cpu-prof-dir=bench-results'] : []
  server = spawn(process.execPath, [...profile, '--import', 'tsx', fileURLToPath(new URL('./server.ts', import.meta.url))], {
    env: { ...process.env, BENCH_DATABASE_URL: databaseUrl(serverUrl, databaseName), BENCH_PUBLIC_KEY: signer.key.publicKeyPem, BENCH_POOL_SIZE: String(servicePoolSize) },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const address = await new Promise<string>((resolve, reject) => {
    let output = ''
    server?.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening (http:\/\/\S+)/.exec(output)
      if (match?.[1]) resolve(match[1])
    })
    server?.once('exit', (code) => reject(new Error(`bench server exited with ${String(code)}`)))
  })
  console.log(`# ${cpus().length} CPUs; database ${databaseName}; ${roomCount} rooms x ${participantsPerRoom} participants; service in its own process, in-process bus, service pool ${servicePoolSize}; ceiling ${connections} pg clients`)
  console.log(`# per-user rate limit off for the benchmark (userRps: 0); ${connections} connections; ${durationSeconds} s per side in ${rounds} alternating rounds after a ${process.env.BENCH_WARMUP ?? 3} s warm-up`)

  let counter = 0
  const driveService = async (seconds: number) => {
    const result = await autocannon({
      url: address,
      connections,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          setupRequest: (request: autocannon.Request) => {
            const sender = pick()
            return {
              ...request,
              path: `/messages/${sender.roomId}/`,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${sender.token}` },
              body: JSON.stringify({ text: `hello ${++counter}`, client_msg_id: randomUUID() })
            }
          }
        }
      ]
    })
    return {
      requests_per_second: result.requests.total / seconds,
      latency_p50_ms: result.latency.p50,
      latency_p99_ms: result.latency.p99,
      requests: result.requests.total,
      non_2xx: result.non2xx,
      // Which statuses, so that a failure in a run can be told apart (429, 503, 500).
      status_codes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([status, stats]) => [status, stats.count ?? 0])),
      errors: result.errors,
      timeouts: result.timeouts
    }
  }

  // The ceiling: the send transaction's own statements over 50 pg clients.
  const clients = await Promise.all(Array.from({ length: connections }, async () => {
    const client = new pg.Client({ connectionString: databaseUrl(serverUrl, databaseName) })
    await client.connect()
    return client
  }))
  const driveCeiling = async (seconds: number) => {
    const latencies: number[] = []
    let failures = 0
    const deadline = Date.now() + seconds * 1000
    const started = Date.now()
    await Promise.all(clients.map(async (client) => {
      while (Date.now() < deadline) {
        const sender = pick()
        const begin = performance.now()
        try {
          await client.query('begin')
          const lock = sendStatements.lockRoom(db, sender.roomId, sender.userId).compile()
          const { rows } = await client.query<{ last_seq: string }>(lock.sql, [...lock.parameters])
          const seq = Number(rows[0]!.last_seq) + 1
          const createdAt = new Date()
          const messageId = uuidv7(createdAt.getTime())
          const text = `hello ${++counter}`
          const clientMsgId = randomUUID()
          const message = {
            id: messageId, room_id: sender.roomId, seq,
            sender: { id: sender.userId, display_name: sender.displayName, created_at: sender.createdAt },
            text, client_msg_id: clientMsgId, created_at: createdAt.toISOString(), edited_at: null, deleted: false, reactions: {}, my_reaction: null
          }
          const payload = JSON.stringify({ type: 'message.created', room_id: sender.roomId, seq, message })
          const write = sendStatements.write({ messageId, roomId: sender.roomId, senderId: sender.userId, text, clientMsgId, createdAt, payload }).compile(db)
          await client.query(write.sql, [...write.parameters])
          await client.query('commit')
          latencies.push(performance.now() - begin)
        } catch (error) {
          failures++
          await client.query('rollback').catch(() => undefined)
          if (failures === 1) console.error('ceiling transaction failed:', error)
        }
      }
    }))
    const elapsedSeconds = (Date.now() - started) / 1000
    latencies.sort((a, b) => a - b)
    return {
      transactions_per_second: latencies.length / elapsedSeconds,
      latency_p50_ms: Number(percentile(latencies, 50).toFixed(2)),
      latency_p99_ms: Number(percentile(latencies, 99).toFixed(2)),
      transactions: latencies.length,
      failures
    }
  }

  // Service and ceiling alternate in short rounds, so that each ratio
  // compares two runs made under the same conditions: on a shared 2-core
  // machine, throughput drifts by more than the effects being measured.
  const roundSeconds = durationSeconds / rounds
  // Unmeasured warm-up of both sides: JIT, pool connections, the token cache.
  const warmupSeconds = Number(process.env.BENCH_WARMUP ?? 3)
  if (warmupSeconds > 0) {
    await driveService(warmupSeconds)
    await driveCeiling(warmupSeconds)
  }
  const results: Array<{ service: Awaited<ReturnType<typeof driveService>>; ceiling: Awaited<ReturnType<typeof driveCeiling>>; ratio: number }> = []
  for (let round = 1; round <= rounds; round++) {
    const serviceRound = await driveService(roundSeconds)
    const ceilingRound = await driveCeiling(roundSeconds)
    const ratio = serviceRound.requests_per_second / ceilingRound.transactions_per_second
    results.push({ service: serviceRound, ceiling: ceilingRound, ratio })
    console.log(`round ${round}: service ${serviceRound.requests_per_second.toFixed(0)} req/s (p50 ${serviceRound.latency_p50_ms} ms, p99 ${serviceRound.latency_p99_ms} ms, ${serviceRound.non_2xx} non-2xx ${JSON.stringify(serviceRound.status_codes)}, ${serviceRound.errors} errors); ceiling ${ceilingRound.transactions_per_second.toFixed(0)} tx/s (p50 ${ceilingRound.latency_p50_ms} ms, p99 ${ceilingRound.latency_p99_ms} ms, ${ceilingRound.failures} failures); ratio ${ratio.toFixed(2)}`)
  }
  await stopServer()
  await Promise.all(clients.map((client) => client.end()))
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b)
    const middle = Math.floor(sorted.length / 2)
    const value = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
    return Number(value.toFixed(2))
  }
  const serviceFigures = {
    requests_per_second: median(results.map((result) => result.service.requests_per_second)),
    latency_p50_ms: median(results.map((result) => result.service.latency_p50_ms)),
    latency_p99_ms: median(results.map((result) => result.service.latency_p99_ms)),
    requests: results.reduce((sum, result) => sum + result.service.requests, 0),
    non_2xx: results.reduce((sum, result) => sum + result.service.non_2xx, 0),
    errors: results.reduce((sum, result) => sum + result.service.errors, 0)
  }
  const ceilingFigures = {
    transactions_per_second: median(results.map((result) => result.ceiling.transactions_per_second)),
    latency_p50_ms: median(results.map((result) => result.ceiling.latency_p50_ms)),
    latency_p99_ms: median(results.map((result) => result.ceiling.latency_p99_ms)),
    transactions: results.reduce((sum, result) => sum + result.ceiling.transactions, 0),
    failures: results.reduce((sum, result) => sum + result.ceiling.failures, 0)
  }
  const ratio = median(results.map((result) => result.ratio))
  console.log(`service (median of ${rounds} rounds): ${serviceFigures.requests_per_second.toFixed(0)} requests/s, p50 ${serviceFigures.latency_p50_ms} ms, p99 ${serviceFigures.latency_p99_ms} ms (${serviceFigures.requests} requests, ${serviceFigures.non_2xx} non-2xx, ${serviceFigures.errors} errors)`)
  console.log(`ceiling (pg, same statements; median): ${ceilingFigures.transactions_per_second.toFixed(0)} transactions/s, p50 ${ceilingFigures.latency_p50_ms} ms, p99 ${ceilingFigures.latency_p99_ms} ms (${ceilingFigures.transactions} transactions, ${ceilingFigures.failures} failures)`)
  console.log(`service/ceiling: ${ratio.toFixed(2)} (median of the rounds' ratios; min ${Math.min(...results.map((result) => result.ratio)).toFixed(2)}, max ${Math.max(...results.map((result) => result.ratio)).toFixed(2)}; target >= 0.6)`)

  await mkdir('bench-results', { recursive: true })
  await writeFile(
    'bench-results/send.json',
    JSON.stringify({
      benchmark: 'POST /messages/:room_id/',
      at: new Date().toISOString(),
      cpus: cpus().length,
      duration_seconds: durationSeconds,
      connections,
      service_pool: servicePoolSize,
      rooms: roomCount,
      participants_per_room: participantsPerRoom,
      service_process: 'separate (bench/server.ts)',
      bus: 'in-process',
      user_rps_limit: 0,
      rounds,
      service: serviceFigures,
      ceiling: ceilingFigures,
      ratio: Number(ratio.toFixed(3)),
      per_round: results.map((result) => ({ ...result, ratio: Number(result.ratio.toFixed(3)) }))
    }, null, 2) + '\n'
  )
  console.log('figures written to bench-results/send.json')
} finally {
  await stopServer()
  await database.destroy()
  // pg-pool's end() resolves before its sockets have closed; a forced drop would kill them mid-close.
  await new Promise((resolve) => setTimeout(resolve, 500))
  await dropDatabase(serverUrl, databaseName)
}
