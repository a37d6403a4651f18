import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { ProblemDetails } from '@chat/contracts'
import { sendProblem } from './errors.js'

export type ReadinessCheck = () => Promise<void>

const Status = Type.Object({ status: Type.String(), checks: Type.Optional(Type.Record(Type.String(), Type.String())) })

/** `/healthz` (the process is alive) and `/readyz` (each dependency answers within `timeoutMs`). */
export const healthPlugin = fp<{ checks: Record<string, ReadinessCheck>; timeoutMs?: number }>(
  async (app, { checks, timeoutMs = 2_000 }) => {
    app.get('/healthz', { schema: { operationId: 'healthz', tags: ['operations'], response: { 200: Status } }, config: { rateLimit: false } }, async () => ({ status: 'ok' }))
    app.get(
      '/readyz',
      { schema: { operationId: 'readyz', tags: ['operations'], response: { 200: Status, 503: ProblemDetails } }, config: { rateLimit: false } },
      async (request, reply) => {
        const results: Record<string, string> = {}
        let ready = true
        await Promise.all(
          Object.entries(checks).map(async ([name, check]) => {
            let timer: NodeJS.Timeout | undefined
            try {
              await Promise.race([
                check(),
                new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs) })
              ])
              results[name] = 'ok'
            } catch (error) {
              ready = false
              results[name] = 'down'
              request.log.warn({ dependency: name, err: error }, 'readiness check failed')
            } finally {
              clearTimeout(timer)
            }
          })
        )
        if (ready) return { status: 'ready', checks: results }
        reply.header('retry-after', '5')
        return sendProblem(reply, 503, 'not_ready', `Unavailable: ${Object.keys(results).filter((name) => results[name] !== 'ok').join(', ')}`, { checks: results })
      }
    )
  },
  { name: '@chat/health' }
)
