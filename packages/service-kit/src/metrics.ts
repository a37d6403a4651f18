import { timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import { RateLimitedError, sendProblem } from './errors.js'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

declare module 'fastify' {
  interface FastifyInstance {
    /** This process's Prometheus registry: services add their own metrics to it. */
    metrics: Registry
  }
}

/** `/metrics` in Prometheus text format, with request latency per route. */
export const metricsPlugin = fp<{ registry?: Registry; token?: string }>(
  async (app, options) => {
    const registry = options.registry ?? new Registry()
    collectDefaultMetrics({ register: registry })
    const requestDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry]
    })
    const rateLimited = new Counter({
      name: 'rate_limited_total',
      help: 'requests refused with 429, by the limit they hit',
      labelNames: ['limit'] as const,
      registers: [registry]
    })
    app.decorate('metrics', registry)
    app.addHook('onError', async (_request, _reply, error) => {
      if (error instanceof RateLimitedError) rateLimited.inc({ limit: error.limit })
    })
    app.addHook('onResponse', async (request, reply) => {
      // The route pattern, never the raw URL: ids in paths would explode the label set.
      const route = request.routeOptions.url ?? 'unmatched'
      requestDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000)
    })
    const expected = options.token ? Buffer.from(`Bearer ${options.token}`) : undefined
    app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (request, reply) => {
      if (expected) {
        const given = Buffer.from(request.headers.authorization ?? '')
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          return sendProblem(reply, 401, 'unauthenticated', 'The metrics token is required')
        }
      }
      reply.type(registry.contentType)
      return registry.metrics()
    })
  },
  { name: '@chat/metrics' }
)
