// Benchmark of the realtime gateway: fan-out, end-to-end latency, delivery
// accounting and memory per idle socket, against running services on real
// PostgreSQL and NATS, with a bare `ws` broadcaster measured in the same run
// as the floor. Prints a table and writes bench-results/realtime.json. Never
// part of `npm test`. Settings: config.ts, or `npm run bench:realtime -- --help`.
//
// Processes: this one (set-up, the load generator that POSTs to the messages
// service, aggregation); the gateway (services/realtime/dist/main.js); the
// messages service (services/messages/dist/main.js, publishes over NATS); the
// floor (bench/floor.ts); BENCH_WORKERS client processes (bench/clients.ts,
// the typed client @chat/client). PostgreSQL and NATS are the running servers.
//
// The parts: fanout.ts (scenarios A and B, the ramp), memory.ts; what they
// run against: harness.ts; the figures: results.ts, report.ts.
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { createDatabase, createDb, databaseUrl, dropDatabase, migrateToLatest } from '@chat/db'
import { sleep } from '@chat/process-kit'
import { createTokenSigner, generateSigningKey } from '@chat/service-kit'
import { paths, readConfig, shape, usage } from './config.js'
import { runRamp, runScenario } from './fanout.js'
import { createFixture } from './fixture.js'
import { Harness } from './harness.js'
import { createSenders, type Senders } from './load.js'
import { runMemory, type MemoryResult } from './memory.js'
import { report } from './report.js'
import type { RampStep, ScenarioResult } from './results.js'

if (process.argv.includes('--help')) {
  console.log(usage)
  process.exit(0)
}
// The children run in process groups of their own (a Ctrl-C reaches only this
// process): exiting kills them.
process.once('SIGINT', () => process.exit(130))

/** Which build of the gateway ran: a hash of its dist/*.js. */
function distFingerprint(): string {
  const hash = createHash('sha256')
  const dist = join(paths.serviceRoot, 'dist')
  for (const name of readdirSync(dist).filter((file) => file.endsWith('.js')).sort()) hash.update(name).update(readFileSync(join(dist, name)))
  return hash.digest('hex').slice(0, 12)
}

const config = readConfig()
const { parts, serverUrl, databaseName } = config
const gatewayBuild = distFingerprint()
console.log(`# realtime benchmark; gateway build ${gatewayBuild} (sha256 of dist/*.js); ${cpus().length} CPUs; load average ${loadavg().map((value) => value.toFixed(2)).join(' ')} (before)`)
await createDatabase(serverUrl, databaseName)
const database = await createDb(databaseUrl(serverUrl, databaseName), { poolSize: 5 })
const signer = createTokenSigner(generateSigningKey(), 3600)
const harness = new Harness({ config, db: database.db, databaseUrl: databaseUrl(serverUrl, databaseName), jwtPublicKey: signer.key.publicKeyPem })
let senders: Senders | undefined
try {
  await migrateToLatest(database.db)
  const fixture = await createFixture(database.db, signer, config)
  await harness.start()
  console.log(harness.describeProcesses())

  const messagesUrl = harness.messages!.url
  const { socketsA, socketsPerRoomB } = shape
  const sending = createSenders(messagesUrl, config.sender)
  senders = sending
  const planA = [sending.plan(fixture.roomA, fixture.users.slice(0, socketsA), 10)]
  const planB = fixture.roomsOfB.map((roomId, room) => sending.plan(roomId, fixture.users.slice(room * socketsPerRoomB, (room + 1) * socketsPerRoomB), 2))
  const inputA = { specs: fixture.specsA, rooms: [fixture.roomA], plan: planA }

  const scenarios: ScenarioResult[] = []
  let ramp: RampStep[] = []
  const loadBefore = loadavg()
  if (parts.has('A')) scenarios.push(await runScenario(harness, { name: 'A', ...inputA, rate: config.rateA }))
  if (config.rampRates.length > 0 && parts.has('ramp')) ramp = await runRamp(harness, inputA, parts.has('A'))
  await harness.closeGroup('A-gateway')
  await harness.closeGroup('A-floor')
  if (parts.has('B')) {
    scenarios.push(await runScenario(harness, { name: 'B', specs: fixture.specsB, rooms: fixture.roomsOfB, plan: planB, rate: config.rateB }))
    await harness.closeGroup('B-gateway')
    await harness.closeGroup('B-floor')
  }
  const loadAfter = loadavg()
  await harness.stopGateway()

  let memory: MemoryResult | undefined
  if (config.memorySockets > 0 && parts.has('memory')) memory = await runMemory(harness, fixture.specsMemory)

  await report({ config, gatewayBuild, placement: harness.placement, loadBefore, loadAfter, scenarios, ramp, memory })
} finally {
  senders?.close()
  await harness.close()
  await database.destroy()
  await sleep(500)
  await dropDatabase(serverUrl, databaseName)
}
