// A fan-out scenario: one group of sockets on each side, a warm-up, then
// alternating gateway and floor rounds at one rate; and the ramp, rising
// rates into 1 room x 1000 sockets until a side no longer keeps up.
import { sleep } from '@chat/process-kit'
import type { SocketSpec } from './clients.js'
import { shape } from './config.js'
import type { Harness } from './harness.js'
import type { RoomPlan } from './load.js'
import { combine, describe, median, round2, shortfall, type RampStep, type ScenarioResult } from './results.js'

export interface FanoutInput {
  name: string
  specs: SocketSpec[]
  rooms: string[]
  plan: RoomPlan[]
  rate: number
}

/** Opens the scenario's sockets on both sides and leaves them open (the ramp reuses A's). */
export async function runScenario(harness: Harness, input: FanoutInput): Promise<ScenarioResult> {
  const { name, specs, rooms, plan, rate } = input
  const { durationSeconds, rounds, warmupSeconds } = harness.config
  const openedAt = performance.now()
  const gatewayOpened = await harness.openGroup(`${name}-gateway`, harness.gateway!.url, specs)
  const floorOpened = await harness.openGroup(`${name}-floor`, harness.floor!.url, specs)
  console.log(`\n## scenario ${name}: ${rooms.length} room(s) x ${specs.length / rooms.length} sockets at ${rate} msg/s (offered ${Math.round((rate * specs.length) / rooms.length)} deliveries/s); sockets open: gateway ${gatewayOpened}, floor ${floorOpened} (${((performance.now() - openedAt) / 1000).toFixed(1)} s)`)
  if (warmupSeconds > 0) {
    await harness.measure('gateway', `${name}-gateway`, rooms, plan, rate, warmupSeconds)
    await harness.measure('floor', `${name}-floor`, rooms, plan, rate, warmupSeconds)
  }
  const perRound: ScenarioResult['per_round'] = []
  for (let round = 1; round <= rounds; round++) {
    const gatewayRound = await harness.measure('gateway', `${name}-gateway`, rooms, plan, rate, durationSeconds / rounds)
    console.log(`round ${round} ${describe(gatewayRound)}`)
    const floorRound = await harness.measure('floor', `${name}-floor`, rooms, plan, rate, durationSeconds / rounds)
    console.log(`round ${round} ${describe(floorRound)}`)
    perRound.push({ gateway: gatewayRound, floor: floorRound, ratio: round2(gatewayRound.deliveries_per_second / Math.max(1, floorRound.deliveries_per_second)) })
  }
  return {
    name,
    sockets: specs.length,
    rooms: rooms.length,
    rate,
    gateway: combine(perRound.map((entry) => entry.gateway)),
    floor: combine(perRound.map((entry) => entry.floor)),
    ratio: round2(median(perRound.map((entry) => entry.ratio))),
    per_round: perRound
  }
}

/**
 * The ramp on scenario A's sockets (opened here when A did not run): each
 * rate on each side alternately; a side drops out at its first step that is
 * not sustained, after one retry.
 */
export async function runRamp(harness: Harness, input: Omit<FanoutInput, 'name' | 'rate'>, opened: boolean): Promise<RampStep[]> {
  const { specs, rooms, plan } = input
  const { rampRates, rampStepSeconds } = harness.config
  if (!opened) {
    await harness.openGroup('A-gateway', harness.gateway!.url, specs)
    await harness.openGroup('A-floor', harness.floor!.url, specs)
  }
  console.log(`\n## ramp: 1 room x ${shape.socketsA} sockets, ${rampStepSeconds} s per step and side; sustained = messages made and deliveries/s >= 95% of offered, nothing lost, p99 < 1 s; a failed step is retried once`)
  const ramp: RampStep[] = []
  const alive = { gateway: true, floor: true }
  for (const rate of rampRates) {
    if (!alive.gateway && !alive.floor) break
    const step: RampStep = { rate, offered_deliveries_per_second: rate * shape.socketsA }
    for (const side of ['gateway', 'floor'] as const) {
      if (!alive[side]) continue
      let result = await harness.measure(side, `A-${side}`, rooms, plan, rate, rampStepSeconds)
      let reasons = shortfall(result)
      if (reasons.length > 0) {
        // One retry after a pause: on a shared machine a burst of someone else's load can sink a single step.
        console.log(`ramp ${String(rate).padStart(4)} msg/s retry (${reasons.join('; ')}) ${describe(result)}`)
        await sleep(3000)
        result = await harness.measure(side, `A-${side}`, rooms, plan, rate, rampStepSeconds)
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
  return ramp
}
