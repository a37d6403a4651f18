// The figures of one measured round, how rounds combine into a scenario's
// figures, and how a round is described on one line.
import type { GroupStats } from './clients.js'
import { maxOf, mergeSparse, percentileOf } from './histogram.js'

export type Side = 'gateway' | 'floor'

export const round1 = (value: number): number => Number(value.toFixed(1))
export const round2 = (value: number): number => Number(value.toFixed(2))

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export interface RoundResult {
  side: Side
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

export interface ScenarioResult {
  name: string
  sockets: number
  rooms: number
  rate: number
  gateway: RoundResult
  floor: RoundResult
  ratio: number
  per_round: Array<{ gateway: RoundResult; floor: RoundResult; ratio: number }>
}

export type RampResult = RoundResult & { sustained: boolean; shortfall: string[] }

export interface RampStep {
  rate: number
  offered_deliveries_per_second: number
  gateway?: RampResult
  floor?: RampResult
}

/** What a round measured, besides the workers' statistics. */
export interface RoundInput {
  side: Side
  rate: number
  /** Messages sent (POSTs accepted, or frames the floor made). */
  sent: number
  startedAt: number
  endedAt: number
  /** Rooms of the socket group (offered deliveries = rate x sockets per room). */
  rooms: number
  cpu: Record<string, number>
  /** CPU seconds the server under test used in the round. */
  serverCpuSeconds: number
}

export function summarize(input: RoundInput, parts: GroupStats[]): RoundResult {
  const { side, rate, sent, startedAt, endedAt } = input
  const { histogram, samples } = mergeSparse(parts.map((part) => part.histogram))
  const created = mergeSparse(parts.map((part) => part.fromCreated))
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
    offered_deliveries_per_second: Math.round((rate * sockets) / input.rooms),
    latency_p50_ms: round2(percentileOf(histogram, samples, 50)),
    latency_p99_ms: round2(percentileOf(histogram, samples, 99)),
    latency_p999_ms: round2(percentileOf(histogram, samples, 99.9)),
    latency_max_ms: round2(maxOf(histogram)),
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
    cpu_percent: input.cpu,
    server_cpu_us_per_delivery: deliveries > 0 ? round2((input.serverCpuSeconds * 1e6) / deliveries) : 0,
    seconds: round2((endedAt - startedAt) / 1000)
  }
}

/** Sums the counts of the rounds and takes the medians of the rates and latencies. */
export function combine(results: RoundResult[]): RoundResult {
  const medianOf = (pick: (result: RoundResult) => number) => median(results.map(pick))
  const sumOf = (pick: (result: RoundResult) => number) => results.reduce((sum, result) => sum + pick(result), 0)
  return {
    ...results[0]!,
    msgs_per_second: round1(medianOf((result) => result.msgs_per_second)),
    deliveries: sumOf((result) => result.deliveries),
    deliveries_per_second: Math.round(medianOf((result) => result.deliveries_per_second)),
    latency_p50_ms: round2(medianOf((result) => result.latency_p50_ms)),
    latency_p99_ms: round2(medianOf((result) => result.latency_p99_ms)),
    latency_p999_ms: round2(medianOf((result) => result.latency_p999_ms)),
    latency_max_ms: Math.max(...results.map((result) => result.latency_max_ms)),
    from_created_p50_ms: round2(medianOf((result) => result.from_created_p50_ms)),
    from_created_p99_ms: round2(medianOf((result) => result.from_created_p99_ms)),
    missing_sample: results.flatMap((result) => result.missing_sample).slice(0, 10),
    lost: sumOf((result) => result.lost),
    duplicated: sumOf((result) => result.duplicated),
    reordered: sumOf((result) => result.reordered),
    incomplete_sockets: Math.max(...results.map((result) => result.incomplete_sockets)),
    reconnects: sumOf((result) => result.reconnects),
    server_cpu_us_per_delivery: round2(medianOf((result) => result.server_cpu_us_per_delivery)),
    post_p50_ms: results[0]!.post_p50_ms === undefined ? undefined : round2(medianOf((result) => result.post_p50_ms ?? 0)),
    post_p99_ms: results[0]!.post_p99_ms === undefined ? undefined : round2(medianOf((result) => result.post_p99_ms ?? 0)),
    seconds: round2(sumOf((result) => result.seconds)),
    gateway_counters: sumCounters(results)
  }
}

/** The gateway's counters summed over the rounds (undefined for the floor). */
function sumCounters(results: RoundResult[]): Record<string, number> | undefined {
  if (results.every((result) => result.gateway_counters === undefined)) return undefined
  const sums: Record<string, number> = {}
  for (const result of results) for (const [name, value] of Object.entries(result.gateway_counters ?? {})) sums[name] = (sums[name] ?? 0) + value
  return sums
}

/** Why a ramp step does not count as sustained (empty: it does). */
export function shortfall(result: RoundResult): string[] {
  return [
    ...(result.msgs_per_second < 0.95 * result.rate ? [`${result.side === 'gateway' ? 'POSTs accepted' : 'frames made'} ${result.msgs_per_second}/s < 95% of ${result.rate}`] : []),
    ...(result.deliveries_per_second < 0.95 * result.offered_deliveries_per_second ? [`deliveries ${result.deliveries_per_second}/s < 95% of offered`] : []),
    ...(result.lost > 0 ? [`${result.lost} lost`] : []),
    ...(result.latency_p99_ms >= 1000 ? [`p99 ${result.latency_p99_ms} ms >= 1 s`] : [])
  ]
}

export function describe(result: RoundResult): string {
  return (
    `${result.side.padEnd(7)} ${String(result.msgs_per_second).padStart(7)} msg/s ${String(result.deliveries_per_second).padStart(7)} deliveries/s ` +
    `p50 ${result.latency_p50_ms} ms p99 ${result.latency_p99_ms} ms max ${result.latency_max_ms} ms (from created_at p50 ${result.from_created_p50_ms} p99 ${result.from_created_p99_ms}); lost ${result.lost}${result.lost ? ` ${JSON.stringify(result.missing_sample.slice(0, 3))}` : ''} dup ${result.duplicated} reord ${result.reordered}` +
    `${result.reconnects ? ` reconnects ${result.reconnects} ${JSON.stringify(result.closes)}` : ''}; frame ${result.frame_bytes} B; ` +
    `server ${result.server_cpu_us_per_delivery} µs CPU/delivery; CPU % ${JSON.stringify(result.cpu_percent)}` +
    `${result.gateway_counters ? `; gateway counters ${JSON.stringify(result.gateway_counters)}` : ''}` +
    `${result.post_p50_ms !== undefined ? `; POST p50 ${result.post_p50_ms} ms p99 ${result.post_p99_ms} ms${result.sender_behind ? `, ${result.sender_behind} not sent (sender cap)` : ''}` : ''}`
  )
}
