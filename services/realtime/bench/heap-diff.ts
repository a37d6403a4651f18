// Diagnostics for the memory figure of bench/realtime.ts: compares two V8 heap
// snapshots of the gateway (BENCH_HEAP_SNAPSHOT=1 writes one before and one
// after opening the idle sockets) and prints what grew, by constructor or
// node type, per socket.
//
//   node --import tsx bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> <sockets>
import { readFileSync } from 'node:fs'

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

function totals(path: string): Map<string, { count: number; bytes: number }> {
  const data = JSON.parse(readFileSync(path, 'utf8')) as Snapshot
  const fields = data.snapshot.meta.node_fields
  const types = data.snapshot.meta.node_types[0]
  const stride = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const byKey = new Map<string, { count: number; bytes: number }>()
  for (let index = 0; index < data.nodes.length; index += stride) {
    const type = types[data.nodes[index + typeAt]!]!
    const name = data.strings[data.nodes[index + nameAt]!]!
    const key = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${name}` : type === 'hidden' || type === 'array' || type === 'code' ? `${type} ${name.slice(0, 60)}` : type
    const entry = byKey.get(key) ?? { count: 0, bytes: 0 }
    entry.count++
    entry.bytes += data.nodes[index + sizeAt]!
    byKey.set(key, entry)
  }
  return byKey
}

const [beforePath, afterPath, socketsText] = process.argv.slice(2)
if (!beforePath || !afterPath || !socketsText) {
  console.error('usage: heap-diff.ts <before> <after> <sockets>')
  process.exit(1)
}
const sockets = Number(socketsText)
const before = totals(beforePath)
const after = totals(afterPath)
const rows = [...after.entries()]
  .map(([key, value]) => ({ key, count: value.count - (before.get(key)?.count ?? 0), bytes: value.bytes - (before.get(key)?.bytes ?? 0) }))
  .filter((row) => row.bytes > 0)
  .sort((a, b) => b.bytes - a.bytes)
const total = rows.reduce((sum, row) => sum + row.bytes, 0)
console.log(`heap growth ${(total / 1024 / 1024).toFixed(1)} MiB = ${(total / sockets).toFixed(0)} B per socket (${sockets} sockets)`)
console.log('bytes/socket  objects/socket  what')
for (const row of rows.slice(0, 40)) console.log(`${(row.bytes / sockets).toFixed(0).padStart(12)}  ${(row.count / sockets).toFixed(2).padStart(14)}  ${row.key}`)
