// The realtime benchmark's settings: its environment variables, the fixed
// shape of its scenarios and its targets. `--help` prints the variables.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

export const usage = `Benchmark of the realtime gateway: fan-out, end-to-end latency, delivery
accounting and memory per idle socket, against running services on real
PostgreSQL and NATS, with a bare \`ws\` broadcaster measured in the same run
as the floor. Prints a table and writes bench-results/realtime.json.

  npm run bench:realtime   (build first: npx turbo run build --filter=@chat/realtime... --filter=@chat/messages...)

Environment:
  BENCH_DURATION      s per scenario per side (10), split into BENCH_ROUNDS
                      alternating gateway/floor rounds (2), after a
                      BENCH_WARMUP s warm-up of each side (2)
  BENCH_RATE_A        msg/s into 1 room x 1000 sockets (40 -> 40k deliveries/s: what this
                      2-core machine sustains with the clients on it; see the ramp)
  BENCH_RATE_B        msg/s into 100 rooms x 10 sockets (1000)
  BENCH_RAMP_RATES    msg/s steps of the 1 x 1000 ramp ("20,40,60,80,100,120"); "" skips it
  BENCH_RAMP_STEP     s per ramp step per side (3)
  BENCH_MEMORY_SOCKETS idle sockets of the memory measurement (10000); 0 skips it
  BENCH_WORKERS       client processes (2)
  BENCH_PARTS         which parts run ("A,ramp,B,memory")
  BENCH_SENDER        how the load generator POSTs: raw (prebuilt HTTP/1.1 on
                      keep-alive sockets, the default) or typed (the typed
                      client over node:http: at 1000 POSTs/s the load
                      generator took 28-36% of a core with it, 12-15% raw)
  BENCH_PIN=1         pin the server under test to CPU 1 and our other processes to CPU 0 (taskset)
  BENCH_HEAP_SNAPSHOT=1 heap snapshots of the memory run's gateway (diagnostics; compare with bench/heap-diff.ts)
  BENCH_CPU_PROF      CPU profiles to bench-results/<process>/: a list of gateway
                      ("1" and "realtime" say the same), messages, clients (the
                      client workers write theirs when stopped). V8 samples wall
                      time: on a busy machine a wait for a CPU counts where the
                      process was preempted (often writev); perf counts CPU only
  DATABASE_URL, NATS_URL`

export interface BenchConfig {
  durationSeconds: number
  rounds: number
  warmupSeconds: number
  rateA: number
  rateB: number
  rampRates: number[]
  rampStepSeconds: number
  memorySockets: number
  workerCount: number
  pin: boolean
  sender: 'raw' | 'typed'
  /** Which parts run: any of A, ramp, B, memory. */
  parts: Set<string>
  /** The processes that run with --cpu-prof: any of gateway, messages, clients. */
  cpuProfile: Set<string>
  heapSnapshot: boolean
  natsUrl: string
  serverUrl: string
  databaseName: string
}

/** `value` when it is one of `allowed`; anything else stops the run (a typo must not measure something else). */
function oneOf<T extends string>(variable: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new Error(`${variable}: "${value}" is none of ${allowed.join(', ')}`)
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  return {
    durationSeconds: Number(env.BENCH_DURATION ?? 10),
    rounds: Math.max(1, Number(env.BENCH_ROUNDS ?? 2)),
    warmupSeconds: Number(env.BENCH_WARMUP ?? 2),
    rateA: Number(env.BENCH_RATE_A ?? 40),
    rateB: Number(env.BENCH_RATE_B ?? 1000),
    rampRates: (env.BENCH_RAMP_RATES ?? '20,40,60,80,100,120').split(',').filter((value) => value.trim() !== '').map(Number),
    rampStepSeconds: Number(env.BENCH_RAMP_STEP ?? 3),
    memorySockets: Number(env.BENCH_MEMORY_SOCKETS ?? 10_000),
    workerCount: Math.max(1, Number(env.BENCH_WORKERS ?? 2)),
    pin: env.BENCH_PIN === '1',
    sender: oneOf('BENCH_SENDER', env.BENCH_SENDER ?? 'raw', ['raw', 'typed'] as const),
    parts: new Set((env.BENCH_PARTS ?? 'A,ramp,B,memory').split(',').map((part) => part.trim())),
    // "1" (this setting's old form) and "realtime" (bench:send's name for the gateway) mean the gateway.
    cpuProfile: new Set(
      (env.BENCH_CPU_PROF ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean)
        .map((name) => oneOf('BENCH_CPU_PROF', name === '1' || name === 'realtime' ? 'gateway' : name, ['gateway', 'messages', 'clients'] as const))
    ),
    heapSnapshot: env.BENCH_HEAP_SNAPSHOT === '1',
    natsUrl: env.NATS_URL ?? 'nats://127.0.0.1:4222',
    serverUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    databaseName: `chat_bench_rt_${Date.now()}`
  }
}

/** The shape of the scenarios: A is 1 room x 1000 sockets, B 100 rooms x 10. */
export const shape = { socketsA: 1000, roomsB: 100, socketsPerRoomB: 10, socketsPerRoomMemory: 10 }
// A round ends when every socket has what it is owed, or when nothing arrived for this long (the rest is lost).
export const drainMs = 3_000
/** POSTs in flight at most; the load generator counts the ones it could not send as behind. */
export const senderCap = 512
// p99Ms: the gateway's own issue (POST accepted -> frame); sentP99Ms: the send path's (issue 14: POST sent -> frame).
export const targets = { ratio: 0.8, p99Ms: 50, sentP99Ms: 25, bytesPerSocket: 10 * 1024 }

const here = fileURLToPath(new URL('.', import.meta.url))
const serviceRoot = join(here, '..')
export const paths = {
  bench: here,
  serviceRoot,
  gatewayMain: join(serviceRoot, 'dist/main.js'),
  messagesMain: join(serviceRoot, '../messages/dist/main.js'),
  resultsDir: join(serviceRoot, 'bench-results')
}
