// The end of a run: the table of the scenarios, the targets met or missed,
// and bench-results/realtime.json.
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { paths, shape, targets, type BenchConfig } from './config.js'
import type { MemoryResult } from './memory.js'
import { round2, type RampResult, type RampStep, type ScenarioResult, type Side } from './results.js'

export interface RunReport {
  config: BenchConfig
  gatewayBuild: string
  placement: string
  loadBefore: number[]
  loadAfter: number[]
  scenarios: ScenarioResult[]
  ramp: RampStep[]
  memory: MemoryResult | undefined
}

function rampMax(ramp: RampStep[], side: Side) {
  const steps = ramp.map((step) => step[side]).filter((result): result is RampResult => result !== undefined)
  const sustainedSteps = steps.filter((result) => result.sustained)
  return {
    max_sustained_deliveries_per_second: sustainedSteps.length ? Math.max(...sustainedSteps.map((result) => result.deliveries_per_second)) : 0,
    max_sustained_rate: sustainedSteps.length ? Math.max(...sustainedSteps.map((result) => result.rate)) : 0,
    peak_deliveries_per_second: steps.length ? Math.max(...steps.map((result) => result.deliveries_per_second)) : 0,
    first_failed_rate: steps.find((result) => !result.sustained)?.rate,
    first_failure: steps.find((result) => !result.sustained)?.shortfall
  }
}

function printTable(scenarios: ScenarioResult[]): void {
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
}

export async function report(run: RunReport): Promise<void> {
  const { config, scenarios, ramp, memory } = run
  const rampSummary = ramp.length ? { gateway: rampMax(ramp, 'gateway'), floor: rampMax(ramp, 'floor') } : undefined
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISS')
  printTable(scenarios)
  const scenarioB = scenarios.find((entry) => entry.name === 'B')
  const zeroFaults = scenarios.every((entry) => entry.gateway.lost + entry.gateway.duplicated + entry.gateway.reordered === 0)
  console.log('\ntargets:')
  for (const entry of scenarios) console.log(`  ratio gateway/floor ${entry.name} at ${entry.rate} msg/s: ${entry.ratio.toFixed(2)} (target >= ${targets.ratio}) ${mark(entry.ratio >= targets.ratio)}`)
  if (rampSummary) {
    const { gateway, floor } = rampSummary
    const ratio = gateway.max_sustained_deliveries_per_second / Math.max(1, floor.max_sustained_deliveries_per_second)
    console.log(`  ramp 1x${shape.socketsA}: max sustained deliveries/s gateway ${gateway.max_sustained_deliveries_per_second} (${gateway.max_sustained_rate} msg/s; first failed step ${gateway.first_failed_rate ?? 'none'}), floor ${floor.max_sustained_deliveries_per_second} (${floor.max_sustained_rate} msg/s; first failed step ${floor.first_failed_rate ?? 'none'}); ratio ${ratio.toFixed(2)} (target >= ${targets.ratio}) ${mark(ratio >= targets.ratio)}${gateway.first_failed_rate === undefined && floor.first_failed_rate === undefined ? ' (neither side reached its limit: raise BENCH_RAMP_RATES)' : ''}`)
  }
  if (scenarioB) console.log(`  p99 (POST accepted -> frame) at ${scenarioB.rate} msg/s offered (${scenarioB.gateway.msgs_per_second} accepted) into ${scenarioB.rooms} rooms x ${scenarioB.sockets / scenarioB.rooms} sockets: ${scenarioB.gateway.from_created_p99_ms} ms (target < ${targets.p99Ms} ms) ${mark(scenarioB.gateway.from_created_p99_ms < targets.p99Ms)}; from POST sent: ${scenarioB.gateway.latency_p99_ms} ms (target <= ${targets.sentP99Ms} ms) ${mark(scenarioB.gateway.latency_p99_ms <= targets.sentP99Ms)}`)
  if (memory) {
    const perSocket = Number(memory.bytes_per_socket)
    const perSocketGc = Number(memory.bytes_per_socket_after_gc)
    console.log(`  memory per idle socket: ${(perSocket / 1024).toFixed(2)} KiB (after a forced full GC ${(perSocketGc / 1024).toFixed(2)} KiB) (target < ${targets.bytesPerSocket / 1024} KiB) ${mark(perSocket < targets.bytesPerSocket)}`)
  }
  console.log(`  lost/duplicated/reordered: ${scenarios.map((entry) => `${entry.name} ${entry.gateway.lost}/${entry.gateway.duplicated}/${entry.gateway.reordered}`).join(', ')} (target 0) ${mark(zeroFaults)}`)
  console.log(`# ${run.placement}; load average before the fan-out runs ${run.loadBefore.map((value) => value.toFixed(2)).join(' ')}, after ${run.loadAfter.map((value) => value.toFixed(2)).join(' ')}`)

  await mkdir(paths.resultsDir, { recursive: true })
  const figures = {
    benchmark: 'realtime gateway fan-out, latency, delivery accounting, memory per idle socket',
    at: new Date().toISOString(),
    cpus: cpus().length,
    gateway_build: run.gatewayBuild,
    load_average_before: run.loadBefore.map(round2),
    load_average_after: run.loadAfter.map(round2),
    processes: {
      gateway: 'services/realtime/dist/main.js (own process)',
      messages: 'services/messages/dist/main.js (own process, publishes over NATS)',
      floor: 'bench/floor.ts: bare ws WebSocketServer, no auth, no NATS, no DB (own process)',
      clients: `${config.workerCount} processes of bench/clients.ts using @chat/client (createChatClient + connect, ws WebSocket), for both sides`,
      load_generator: `bench/realtime.ts: POST /messages/:room_id/ ${config.sender === 'raw' ? 'as prebuilt HTTP/1.1 on keep-alive sockets (raw-sender.ts)' : 'through @chat/client'}, paced every millisecond`,
      placement: run.placement
    },
    settings: { sender: config.sender, duration_seconds: config.durationSeconds, rounds: config.rounds, warmup_seconds: config.warmupSeconds, ramp_rates: config.rampRates, ramp_step_seconds: config.rampStepSeconds, nats: config.natsUrl, user_rps_limit: 0 },
    targets: { ratio_min: targets.ratio, p99_ms_max_scenario_b: targets.p99Ms, sent_p99_ms_max_scenario_b: targets.sentP99Ms, bytes_per_idle_socket_max: targets.bytesPerSocket, lost_duplicated_reordered: 0 },
    scenarios,
    ramp: rampSummary ? { summary: rampSummary, steps: ramp } : undefined,
    memory
  }
  await writeFile(join(paths.resultsDir, 'realtime.json'), JSON.stringify(figures, null, 2) + '\n')
  console.log(`figures written to ${join('bench-results', 'realtime.json')}`)
}
