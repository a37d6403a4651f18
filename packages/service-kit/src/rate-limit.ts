import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import type { Database } from '@chat/db'
import { RateLimitedError } from './errors.js'
import { syncedRateLimitStore } from './request-limit-store.js'

/** The client's address; `injectWS` and some proxies leave `request.ip` unset. */
export function clientAddress(request: FastifyRequest): string {
  return request.ip || request.socket?.remoteAddress || 'unknown'
}

/** The service a path belongs to (`/chatrooms/..` → `chatrooms`): limits are per user and service. */
function serviceArea(url: string): string {
  return url.split('/', 2)[1]?.split('?', 1)[0] ?? ''
}

/**
 * Per-user limit: `rps` requests per second with bursts of `2 * rps`,
 * enforced as `2 * rps` requests per two-second window. It runs after
 * authentication so the key is the verified user, never a claim from an
 * unverified token; anonymous requests are keyed by address. With `db`
 * every replica's counts meet in its `rate_limits` table, synced every
 * quarter second rather than written per request (request-limit-store.ts):
 * the send path pays no round trip for its limit.
 */
export const userRateLimitPlugin = fp<{ rps: number; db?: Kysely<Database> }>(
  async (app, { rps, db }) => {
    if (rps <= 0) return
    const burst = rps * 2
    const shared = db ? syncedRateLimitStore(db, { onError: (error) => app.log.warn({ err: error }, 'could not sync the request limits; counting locally until it can') }) : undefined
    if (shared) app.addHook('onClose', () => shared.close())
    await app.register(rateLimit, {
      global: true,
      hook: 'preHandler',
      max: burst,
      timeWindow: Math.round((burst / rps) * 1000),
      ...(shared ? { store: shared.Store } : {}),
      keyGenerator: (request) =>
        `${request.user ? `user:${request.user.id}` : `addr:${clientAddress(request)}`}:${serviceArea(request.url)}`,
      errorResponseBuilder: (_request, context) =>
        new RateLimitedError('user_requests', `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s`, Math.max(1, Math.ceil(context.ttl / 1000)))
    })
  },
  { name: '@chat/rate-limit' }
)
