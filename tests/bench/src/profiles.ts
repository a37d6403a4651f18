// BENCH_CPU_PROF=messages,realtime,...: the named services of each system run
// with node's --cpu-prof, and once they have stopped their profiles are
// summed up here: where each process's time went, by package (self time, the
// idle time left out). V8 samples wall time, so on a busy machine the time a
// thread waited for a CPU counts where it was preempted (often a syscall such
// as writev that woke another process); perf counts CPU only. The .cpuprofile
// files stay for Chrome's DevTools.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>
  samples: number[]
  timeDeltas: number[]
}

/** The node options that make a service write its profile into `dir` when it exits. */
export function cpuProfileArgs(services: readonly string[], dir: string): Record<string, string[]> {
  return Object.fromEntries(services.map((service) => [service, ['--cpu-prof', `--cpu-prof-dir=${join(dir, service)}`]]))
}

/** Where the time of a frame goes: its npm package, the repository file, or node itself. */
function placeOf(url: string, functionName: string): string {
  const nodeModule = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nodeModule) return nodeModule[1]!
  const own = /\/((?:services|packages)\/[^/]+)\//.exec(url)
  if (own) return own[1]!
  if (url.startsWith('node:')) return 'node (js)'
  return url === '' ? `node (${functionName})` : url
}

/** One line per profile: the biggest shares of its busy time, by package. */
export function summarizeProfiles(dir: string, top = 10): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.cpuprofile'))
    .sort()
    .map((file) => {
      const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
      const place = new Map(profile.nodes.map((node) => [node.id, placeOf(node.callFrame.url, node.callFrame.functionName)]))
      const byPlace = new Map<string, number>()
      let busy = 0
      profile.samples.forEach((id, index) => {
        const where = place.get(id) ?? '?'
        if (where === 'node ((idle))') return
        const micros = profile.timeDeltas[index] ?? 0
        busy += micros
        byPlace.set(where, (byPlace.get(where) ?? 0) + micros)
      })
      const shares = [...byPlace.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([where, micros]) => `${where} ${((micros / Math.max(1, busy)) * 100).toFixed(1)}%`)
      return `${file} (${(busy / 1e6).toFixed(1)} s not idle, waits for a CPU included, whole run): ${shares.join(', ')}`
    })
}
