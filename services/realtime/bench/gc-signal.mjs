// Preloaded (--import) into the gateway child of the memory measurement only,
// with --expose-gc: on SIGUSR2 it runs a full GC and appends the process's
// memory figures as one JSON line to BENCH_MEMORY_FILE. It changes nothing
// else in the gateway. With BENCH_HEAP_SNAPSHOT_DIR it also writes a heap
// snapshot there after the GC (diagnostics; it takes seconds).
import { appendFileSync } from 'node:fs'
import process from 'node:process'
import { writeHeapSnapshot } from 'node:v8'

process.on('SIGUSR2', () => {
  globalThis.gc?.()
  globalThis.gc?.()
  const file = process.env.BENCH_MEMORY_FILE
  const snapshotDir = process.env.BENCH_HEAP_SNAPSHOT_DIR
  // Diagnostics only (BENCH_HEAP_SNAPSHOT=1): a heap snapshot per signal, for bench/heap-diff.ts.
  const snapshot = snapshotDir ? writeHeapSnapshot(`${snapshotDir}/gateway-${Date.now()}.heapsnapshot`) : undefined
  if (file) appendFileSync(file, JSON.stringify({ at: Date.now(), ...process.memoryUsage(), ...(snapshot ? { snapshot } : {}) }) + '\n')
})
