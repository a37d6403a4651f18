import { getHeapStatistics } from 'node:v8'
import fp from 'fastify-plugin'
import underPressure from '@fastify/under-pressure'
import { problemBody } from './errors.js'

/** Answered even while the process sheds load: a busy pod must not look dead or unready, nor go unmeasured. */
const exemptRoutes = new Set(['/healthz', '/readyz', '/metrics'])

export interface OverloadOptions {
  /** Mean event-loop delay (ms) over a sample past which requests are shed; 0 turns it off. Default 1000. */
  maxEventLoopDelayMs?: number
  /** Heap in use past which requests are shed; 0 turns it off. Default: 90 % of V8's heap limit. */
  maxHeapUsedBytes?: number
  /** The `Retry-After` of a shed request. Default 5 s. */
  retryAfterSeconds?: number
  /** How often the figures are sampled. Default 1000 ms (tests use less). */
  sampleIntervalMs?: number
}

/** The heap threshold when none is configured: close to the limit, before the collector thrashes. */
export function defaultMaxHeapUsedBytes(): number {
  return Math.floor(getHeapStatistics().heap_size_limit * 0.9)
}

/**
 * Load shedding with @fastify/under-pressure: while the event loop lags or
 * the heap is nearly full, requests get a 503 problem (`overloaded`) with
 * `Retry-After` at once instead of queueing until they time out. The
 * health probes and metrics are still answered.
 */
export const overloadPlugin = fp<OverloadOptions>(
  async (app, options) => {
    const maxEventLoopDelay = options.maxEventLoopDelayMs ?? 1_000
    const maxHeapUsedBytes = options.maxHeapUsedBytes ?? defaultMaxHeapUsedBytes()
    if (maxEventLoopDelay <= 0 && maxHeapUsedBytes <= 0) return
    const retryAfter = options.retryAfterSeconds ?? 5
    let loggedAt = 0
    await app.register(underPressure, {
      maxEventLoopDelay,
      maxHeapUsedBytes,
      sampleInterval: options.sampleIntervalMs ?? 1_000,
      retryAfter,
      pressureHandler: (request, reply, type, value) => {
        if (exemptRoutes.has(request.routeOptions.url ?? '')) return undefined
        // One line per ten seconds: logging every shed request would add to the load.
        if (Date.now() - loggedAt > 10_000) {
          loggedAt = Date.now()
          request.log.warn({ pressure: type, value, threshold: type === 'heapUsedBytes' ? maxHeapUsedBytes : maxEventLoopDelay }, 'overloaded: shedding requests')
        }
        reply.code(503).type('application/problem+json').header('retry-after', String(retryAfter))
        // under-pressure sends what the handler returns.
        return problemBody(503, 'overloaded', `The service is overloaded; retry in ${retryAfter} s`) as unknown as void
      }
    })
  },
  { name: '@chat/overload' }
)
