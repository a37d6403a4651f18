import { randomFillSync } from 'node:crypto'

let lastMs = 0
let counter = 0

// Random bytes drawn 4 KiB at a time, as crypto.randomUUID() does: one call
// into OpenSSL per send showed in the profile of the send path.
const POOL_BYTES = 4096
const pool = Buffer.alloc(POOL_BYTES)
let poolOffset = POOL_BYTES

function randomTail(bytes: Buffer): void {
  if (poolOffset + 8 > POOL_BYTES) {
    randomFillSync(pool)
    poolOffset = 0
  }
  // Bytes 8..15 (variant and rand_b); 0..7 are the time and the counter.
  pool.copy(bytes, 8, poolOffset, poolOffset + 8)
  poolOffset += 8
}

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Ids made
 * within one millisecond by this process still sort in creation order, via a
 * 12-bit counter in `rand_a`.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now <= lastMs) {
    counter += 1
    if (counter > 0xfff) {
      lastMs += 1
      counter = 0
    }
  } else {
    lastMs = now
    counter = 0
  }
  const bytes = Buffer.allocUnsafe(16)
  randomTail(bytes)
  const ms = lastMs
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff
  bytes[2] = (ms >>> 24) & 0xff
  bytes[3] = (ms >>> 16) & 0xff
  bytes[4] = (ms >>> 8) & 0xff
  bytes[5] = ms & 0xff
  bytes[6] = 0x70 | ((counter >>> 8) & 0x0f)
  bytes[7] = counter & 0xff
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
