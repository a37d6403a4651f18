// The memory measurement: idle authenticated sockets on a fresh gateway
// process, its RSS and (after a forced full GC, through bench/gc-signal.mjs)
// its V8 heap before and after they open.
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openFileLimit, sleep, statusKiB } from '@chat/process-kit'
import type { SocketSpec } from './clients.js'
import { paths } from './config.js'
import type { Harness } from './harness.js'
import { round2 } from './results.js'

export type MemoryResult = Record<string, unknown>

/** The figures the gateway's preload appends on SIGUSR2 (the last line), {} when none comes. */
async function gcAndRead(harness: Harness, memoryFile: string, timeoutMs: number): Promise<Record<string, number>> {
  const lines = existsSync(memoryFile) ? (await readFile(memoryFile, 'utf8')).trim().split('\n').length : 0
  harness.gateway?.process.signal('SIGUSR2')
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    await sleep(100)
    const content = existsSync(memoryFile) ? (await readFile(memoryFile, 'utf8')).trim().split('\n') : []
    if (content.length > lines) return JSON.parse(content[content.length - 1]!) as Record<string, number>
  }
  return {}
}

/** The gateway's own count of open sockets (a sanity check only). */
async function socketsOpenMetric(url: string): Promise<number | undefined> {
  try {
    const metrics = await (await fetch(`${url}/metrics`)).text()
    const match = /^realtime_sockets_open (\d+)/m.exec(metrics)
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

export async function runMemory(harness: Harness, specs: SocketSpec[]): Promise<MemoryResult> {
  console.log(`\n## memory: ${specs.length} idle authenticated sockets (one room each, 10 per room) on a fresh gateway process`)
  const memoryFile = join(tmpdir(), `realtime-bench-memory-${process.pid}.jsonl`)
  await rm(memoryFile, { force: true })
  // BENCH_HEAP_SNAPSHOT=1 (diagnostics): heap snapshots before and after, compared by bench/heap-diff.ts; they inflate the RSS read after them.
  const snapshotDir = harness.config.heapSnapshot ? tmpdir() : undefined
  try {
    const fresh = await harness.startGateway(['--expose-gc', '--import', join(paths.bench, 'gc-signal.mjs')], {
      BENCH_MEMORY_FILE: memoryFile,
      ...(snapshotDir ? { BENCH_HEAP_SNAPSHOT_DIR: snapshotDir } : {})
    })
    harness.gateway = fresh
    const pid = fresh.process.pid
    const gcTimeoutMs = snapshotDir ? 120_000 : 5_000
    // Warm-up: the code paths of a connection run (JIT, pool connections) before the baseline.
    await harness.openGroup('memory-warmup', fresh.url, specs.slice(0, 200), false)
    await harness.closeGroup('memory-warmup')
    await sleep(1500)
    const heapBefore = await gcAndRead(harness, memoryFile, gcTimeoutMs)
    await sleep(500)
    const rssBefore = statusKiB(pid, 'VmRSS')
    const openedAt = performance.now()
    const opened = await harness.openGroup('memory', fresh.url, specs, false, 100)
    const openSeconds = (performance.now() - openedAt) / 1000
    await sleep(3000)
    const rssAfter = statusKiB(pid, 'VmRSS')
    const heapAfter = await gcAndRead(harness, memoryFile, gcTimeoutMs)
    await sleep(1000)
    const rssAfterGc = statusKiB(pid, 'VmRSS')
    const socketsOpen = await socketsOpenMetric(fresh.url)
    const perSocket = (kib: number) => round2((kib * 1024) / Math.max(1, opened))
    const heapPerSocket = perSocket(((heapAfter.heapUsed ?? 0) - (heapBefore.heapUsed ?? 0)) / 1024)
    const externalPerSocket = perSocket(((heapAfter.external ?? 0) - (heapBefore.external ?? 0)) / 1024)
    const memory = {
      sockets: opened,
      gateway_open_sockets_metric: socketsOpen,
      open_seconds: round2(openSeconds),
      rss_before_kib: rssBefore,
      rss_after_kib: rssAfter,
      rss_after_gc_kib: rssAfterGc,
      bytes_per_socket: perSocket(rssAfter - rssBefore),
      bytes_per_socket_after_gc: perSocket(rssAfterGc - rssBefore),
      heap_used_per_socket_after_gc: heapPerSocket,
      external_per_socket_after_gc: externalPerSocket,
      heap_before: heapBefore,
      heap_after_gc: heapAfter,
      open_file_limit: openFileLimit(pid)
    }
    console.log(
      `memory: ${opened} sockets open (gateway metric ${socketsOpen ?? '?'}) in ${openSeconds.toFixed(1)} s; VmRSS ${rssBefore} KiB -> ${rssAfter} KiB (${(perSocket(rssAfter - rssBefore) / 1024).toFixed(2)} KiB/socket), ` +
        `after a full GC ${rssAfterGc} KiB (${(perSocket(rssAfterGc - rssBefore) / 1024).toFixed(2)} KiB/socket); V8 heap used +${(heapPerSocket / 1024).toFixed(2)} KiB/socket, ` +
        `external +${(externalPerSocket / 1024).toFixed(2)} KiB/socket; open-file limit ${openFileLimit(pid)}`
    )
    await harness.closeGroup('memory')
    await harness.stopGateway()
    return memory
  } finally {
    await rm(memoryFile, { force: true })
  }
}
