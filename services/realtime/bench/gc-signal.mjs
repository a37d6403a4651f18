// Preloaded (--import) into the gateway child of the memory measurement only,
// with --expose-gc: on SIGUSR2 it runs a full GC and appends the process's
// memory figures as one JSON line to BENCH_MEMORY_FILE. It changes nothing
// else in the gateway.
import { appendFileSync } from 'node:fs'
import process from 'node:process'

process.on('SIGUSR2', () => {
  globalThis.gc?.()
  globalThis.gc?.()
  const file = process.env.BENCH_MEMORY_FILE
  if (file) appendFileSync(file, JSON.stringify({ at: Date.now(), ...process.memoryUsage() }) + '\n')
})
