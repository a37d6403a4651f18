/**
 * Counts events per key in fixed windows, in memory: the `memory` limit
 * store (shared-limits.ts). Per process: with N replicas an attacker gets N
 * times the budget; the `database` store shares the windows instead.
 */
export interface WindowCounter {
  /** Seconds until `key` may act again, or 0 when it is under the limit. */
  retryAfter(key: string): number
  hit(key: string): void
  reset(key: string): void
}

export function createWindowCounter(limit: number, windowMs: number, maxKeys = 100_000): WindowCounter {
  const windows = new Map<string, { count: number; resetAt: number }>()
  const current = (key: string, now: number) => {
    const entry = windows.get(key)
    if (!entry || entry.resetAt <= now) return undefined
    return entry
  }
  return {
    retryAfter(key) {
      if (limit <= 0) return 0
      const now = Date.now()
      const entry = current(key, now)
      return entry && entry.count >= limit ? Math.max(1, Math.ceil((entry.resetAt - now) / 1000)) : 0
    },
    hit(key) {
      if (limit <= 0) return
      const now = Date.now()
      const entry = current(key, now)
      if (entry) {
        entry.count += 1
        return
      }
      if (windows.size >= maxKeys) {
        for (const [staleKey, stale] of windows) if (stale.resetAt <= now) windows.delete(staleKey)
        // Still full of live keys: forget the oldest rather than grow without bound.
        if (windows.size >= maxKeys) windows.delete(windows.keys().next().value as string)
      }
      windows.set(key, { count: 1, resetAt: now + windowMs })
    },
    reset(key) {
      windows.delete(key)
    }
  }
}
