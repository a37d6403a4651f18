// CPU time of the processes of the path over a round, from /proc: each one's
// share in % of one core, plus PostgreSQL, NATS, this process and the machine.
import { cpuSecondsByName, cpuSecondsOf, machineCpuSeconds } from '@chat/process-kit'

interface CpuSnapshot {
  at: number
  byProcess: Record<string, number>
}

export class CpuSampler {
  /** The pids to sample by name, read at each sample (a gateway is restarted between parts). */
  private readonly tracked = new Map<string, () => number | undefined>()

  track(name: string, pidOf: () => number | undefined): void {
    this.tracked.set(name, pidOf)
  }

  snapshot(): CpuSnapshot {
    const byProcess: Record<string, number> = {}
    for (const [name, pidOf] of this.tracked) byProcess[name] = cpuSecondsOf(pidOf())
    const usage = process.cpuUsage()
    byProcess.benchmark = usage.user / 1e6 + usage.system / 1e6
    byProcess.postgres = cpuSecondsByName('postgres')
    byProcess['nats-server'] = cpuSecondsByName('nats-server')
    byProcess.machine = machineCpuSeconds()
    return { at: performance.now(), byProcess }
  }
}

/** Each process's CPU over the interval, in % of one core. */
export function cpuPercent(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const seconds = (after.at - before.at) / 1000
  const percent: Record<string, number> = {}
  // Max 0: a PostgreSQL backend that ended during the interval takes its CPU time with it.
  for (const [name, value] of Object.entries(after.byProcess)) percent[name] = Math.max(0, Math.round((100 * (value - (before.byProcess[name] ?? 0))) / seconds))
  percent.others = percent.machine! - Object.entries(percent).filter(([name]) => name !== 'machine').reduce((sum, [, value]) => sum + value, 0)
  return percent
}
