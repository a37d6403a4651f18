import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { sql, type Kysely, type QueryExecutorProvider } from 'kysely'
import type { Database } from '@chat/db'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { installErrorHandling, sendProblem } from './errors.js'
import { strictValidatorCompiler } from './validation.js'
import { genRequestId, loggerOptions } from './logging.js'
import { authPlugin } from './auth-plugin.js'
import { healthPlugin, type ReadinessCheck } from './health.js'
import { metricsPlugin } from './metrics.js'
import { openapiPlugin } from './openapi.js'
import { userRateLimitPlugin } from './rate-limit.js'
import { overloadPlugin, type OverloadOptions } from './overload.js'
import type { LimitStore } from './shared-limits.js'
import type { TokenVerifier } from './tokens.js'

/** The options every service's buildApp takes, with the defaults of api.md. */
export interface CommonAppOptions {
  /** Requests per second per user and service (bursts of twice that); 0 turns it off. Default 50. */
  userRps?: number
  /** Largest JSON body. Default 64 KiB. */
  bodyLimitBytes?: number
  /**
   * Proxies in front whose `X-Forwarded-For` entries are trusted. A hop
   * count, never `true`: trusting every hop would let a client pick its own
   * address and slip past per-address limits.
   */
  trustProxyHops?: number
  /** When set, `/metrics` requires it as a bearer token. */
  metricsToken?: string
  /**
   * Where the per-user request limit and identity's attempt limits count:
   * `database` shares them between replicas (the `rate_limits` table),
   * `memory` keeps them per process. Default `memory`.
   */
  limitStore?: LimitStore
  /** Load shedding (503 `overloaded`); see {@link OverloadOptions} for the defaults. */
  overload?: OverloadOptions
  /** A log level, or `false` for no logs (tests), or a ready pino instance. */
  logger?: string | false | FastifyServerOptions['loggerInstance']
}

/** The common options from the common configuration variables. */
export function commonAppOptions(config: {
  RATE_LIMIT_USER_RPS: number
  BODY_LIMIT_BYTES: number
  TRUST_PROXY_HOPS: number
  METRICS_TOKEN?: string
  LOG_LEVEL: string
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: number
  OVERLOAD_MAX_HEAP_USED_BYTES?: number
  OVERLOAD_RETRY_AFTER_SECONDS: number
  RATE_LIMIT_STORE: LimitStore
}): CommonAppOptions {
  return {
    limitStore: config.RATE_LIMIT_STORE,
    overload: {
      maxEventLoopDelayMs: config.OVERLOAD_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: config.OVERLOAD_MAX_HEAP_USED_BYTES,
      retryAfterSeconds: config.OVERLOAD_RETRY_AFTER_SECONDS
    },
    userRps: config.RATE_LIMIT_USER_RPS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustProxyHops: config.TRUST_PROXY_HOPS,
    metricsToken: config.METRICS_TOKEN,
    logger: config.LOG_LEVEL
  }
}

export interface ServiceAppOptions extends CommonAppOptions {
  title: string
  description?: string
  verifier: TokenVerifier
  readiness: Record<string, ReadinessCheck>
  /** The database of the shared limits, used when `limitStore` is `database`. */
  limitsDb?: Kysely<Database>
  /** Extra Fastify options (for example a custom HTTP server). */
  fastify?: Partial<FastifyServerOptions>
}

/** What `/readyz` checks: a service's dependencies. */
export interface ReadinessDeps {
  db: QueryExecutorProvider
  bus?: { ping(): Promise<void> }
  /**
   * The database check on a connection of its own (`DbHandle.ping`), so
   * that it does not wait behind requests holding every pooled connection.
   * Without it `select 1` goes through the pool (tests, PGlite).
   */
  databasePing?: () => Promise<void>
}

/** `/readyz` checks of a service's dependencies: the database (`select 1`), and the bus when it has one. */
export function readinessChecks(deps: ReadinessDeps): Record<string, ReadinessCheck> {
  const { db, databasePing } = deps
  const checks: Record<string, ReadinessCheck> = { database: databasePing ?? (async () => { await sql`select 1`.execute(db) }) }
  const bus = deps.bus
  if (bus) checks.bus = () => bus.ping()
  return checks
}

export type ServiceApp = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyInstance['log'],
  TypeBoxTypeProvider
>

/**
 * The Fastify instance every service and the standalone process start from:
 * request ids, problem-details errors, TypeBox validation, auth, limits,
 * health, metrics and OpenAPI. Services register their plugin on it.
 */
export async function createServiceApp(options: ServiceAppOptions): Promise<ServiceApp> {
  const logging =
    options.logger === false
      ? { logger: false }
      : typeof options.logger === 'string' || options.logger === undefined
        ? { logger: loggerOptions(options.logger ?? 'info') }
        : { loggerInstance: options.logger }
  const app = Fastify({
    ...logging,
    genReqId: genRequestId,
    bodyLimit: options.bodyLimitBytes ?? 64 * 1024,
    // Trusts the nearest `hops` proxies, as proxy-addr's hop count does.
    trustProxy: (_address: string, hop: number) => hop < (options.trustProxyHops ?? 0),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Errors raised before routing (a malformed URL) skip the error handler:
    // they are problem details too.
    frameworkErrors: (error, _request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400
      void sendProblem(reply, status, error.code === 'FST_ERR_BAD_URL' ? 'bad_url' : 'bad_request', error.message)
    },
    ...options.fastify
  })
    .setValidatorCompiler(strictValidatorCompiler)
    .withTypeProvider<TypeBoxTypeProvider>()

  // JSON only: Fastify's default text/plain parser would turn a wrong
  // Content-Type into a confusing validation error instead of a 415.
  app.removeContentTypeParser('text/plain')
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  installErrorHandling(app)
  // First, so that a shed request costs no authentication or limit lookup.
  await app.register(overloadPlugin, options.overload ?? {})
  await app.register(openapiPlugin, { title: options.title, description: options.description })
  await app.register(metricsPlugin, { token: options.metricsToken })
  await app.register(authPlugin, { verifier: options.verifier })
  await app.register(userRateLimitPlugin, { rps: options.userRps ?? 50, db: options.limitStore === 'database' ? options.limitsDb : undefined })
  await app.register(healthPlugin, { checks: options.readiness })
  return app
}
