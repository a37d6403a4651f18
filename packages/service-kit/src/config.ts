import { Type, type Static, type TObject, type TProperties } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'

/** A configuration value that is missing or wrong; its message is one line naming the variable. */
export class ConfigError extends Error {
  readonly code = 'config_invalid'
  constructor(readonly variable: string, reason: string) {
    super(`Invalid configuration: ${variable} ${reason}`)
  }
}

/**
 * Reads the variables named by the schema's properties from `env`, converts
 * numbers and booleans, applies defaults and validates. Empty strings count
 * as unset.
 *
 * @example
 * const config = loadConfig(Type.Object({ PORT: Type.Integer({ default: 8080 }) }))
 */
export function loadConfig<S extends TObject>(schema: S, env: NodeJS.ProcessEnv = process.env): Static<S> {
  const raw: Record<string, unknown> = {}
  for (const name of Object.keys(schema.properties)) {
    const value = env[name]
    if (value !== undefined && value !== '') raw[name] = value
  }
  const converted = Value.Convert(schema, Value.Default(schema, raw))
  const check = Compile(schema)
  if (check.Check(converted)) return converted
  const [first] = check.Errors(converted)
  const issue = first as { instancePath: string; message: string; params?: { requiredProperties?: string[] } } | undefined
  const variable =
    issue?.params?.requiredProperties?.[0] ?? (issue?.instancePath.replace(/^\//, '') || 'configuration')
  // A secret (writeOnly in its schema) is never echoed: this line goes to logs.
  const property: { writeOnly?: boolean } | undefined = schema.properties[variable]
  const secret = property?.writeOnly === true
  const got = secret ? '' : ` (got ${JSON.stringify(raw[variable])})`
  const reason = issue?.params?.requiredProperties ? 'is required' : `${issue?.message ?? 'is invalid'}${got}`
  throw new ConfigError(variable, reason)
}

/**
 * Runs `read` (loading the configuration and what is derived from it); a
 * ConfigError ends the process with its one line on standard error.
 */
export function configOrExit<T>(read: () => T): T {
  try {
    return read()
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(1)
    }
    throw error
  }
}

/** Config pieces every service composes into its own schema. */
export const commonConfig = {
  HOST: Type.String({ default: '127.0.0.1', description: 'address to listen on' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' }
  ),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 64 * 1024, description: 'largest JSON body accepted' }),
  RATE_LIMIT_USER_RPS: Type.Integer({ minimum: 0, default: 50, description: 'requests per second per user and service, bursts of twice that; 0 turns it off' }),
  RATE_LIMIT_AUTH_PER_MINUTE: Type.Integer({ minimum: 0, default: 10, description: 'failed logins per display name per minute (registrations per address: 3x); 0 turns it off' }),
  RATE_LIMIT_STORE: Type.Union([Type.Literal('database'), Type.Literal('memory')], {
    default: 'database',
    description: "where the request and login/registration limits count: 'database' (the rate_limits table, shared by every replica) or 'memory' (per process: N replicas allow N times the budget)"
  }),
  TRUST_PROXY_HOPS: Type.Integer({
    minimum: 0,
    maximum: 10,
    default: 0,
    description: 'proxies in front of this process whose X-Forwarded-For entries are trusted (1 behind the nginx gateway); 0 trusts none'
  }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, writeOnly: true, description: 'when set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`' })),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({
    minimum: 0,
    default: 1_000,
    description: 'mean event-loop delay over a second past which requests get 503 overloaded (health probes and /metrics excepted); 0 turns it off'
  }),
  OVERLOAD_MAX_HEAP_USED_BYTES: Type.Optional(
    Type.Integer({ minimum: 0, description: "heap in use past which requests get 503 overloaded; default 90 % of V8's heap limit (--max-old-space-size); 0 turns it off" })
  ),
  OVERLOAD_RETRY_AFTER_SECONDS: Type.Integer({ minimum: 1, maximum: 3_600, default: 5, description: 'Retry-After of a 503 overloaded' }),
  // Read by the OpenTelemetry SDK itself (with the other standard OTEL_* variables); listed here so that it is documented and checked like the rest.
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(
    Type.String({ pattern: '^https?://', description: 'OTLP endpoint that traces go to (for example http://jaeger:4318); unset, tracing is off and not loaded. The other standard OTEL_* variables apply' })
  )
} satisfies TProperties

export const databaseConfig = {
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://', writeOnly: true, description: 'PostgreSQL connection URL (with its password)' }),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 })
} satisfies TProperties

export const natsConfig = {
  NATS_URL: Type.String({ pattern: '^(nats|tls|ws|wss)://', default: 'nats://127.0.0.1:4222', description: 'NATS server, or several of a cluster separated by commas' }),
  NATS_STREAM_REPLICAS: Type.Integer({ minimum: 1, maximum: 5, default: 1, description: 'copies of each event in the CHAT_EVENTS stream (3 in a JetStream cluster of three)' }),
  NATS_STREAM_MAX_AGE_HOURS: Type.Number({ minimum: 0, default: 168, description: 'events older than this leave the stream (the database keeps them); 0: no age limit' }),
  NATS_STREAM_MAX_BYTES: Type.Integer({ minimum: -1, default: 8 * 1024 ** 3, description: 'size of the stream past which the oldest events leave it, per replica; -1: no size limit' }),
  NATS_USER: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', description: "this service's user on NATS, with NATS_PASSWORD; its replies arrive on _INBOX.<user>" })),
  NATS_PASSWORD: Type.Optional(Type.String({ writeOnly: true, description: 'password of NATS_USER' })),
  NATS_TLS_CA: Type.Optional(Type.String({ description: 'file of the CA certificate(s) that signed the NATS servers; when set, the connection must be TLS' })),
  NATS_TLS_CERT: Type.Optional(Type.String({ description: 'client certificate file for servers that verify clients (mutual TLS), with NATS_TLS_KEY' })),
  NATS_TLS_KEY: Type.Optional(Type.String({ description: 'private key file of NATS_TLS_CERT' }))
} satisfies TProperties

/** How a service that does not sign tokens finds the public keys that verify them. */
export const tokenVerifyConfig = {
  JWT_PUBLIC_KEY: Type.Optional(Type.String({ description: 'PEM (SPKI) public key that verifies access tokens' })),
  JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'JWKS document with the verifying keys (used when JWT_PUBLIC_KEY is unset)' })),
  JWKS_CACHE_SECONDS: Type.Integer({
    minimum: 2,
    maximum: 86_400,
    default: 300,
    description: 'a key identity stops publishing stops verifying here within this time (the JWKS is fetched again every half of it)'
  }),
  JWKS_COOLDOWN_SECONDS: Type.Integer({ minimum: 0, maximum: 3_600, default: 10, description: 'least time between two JWKS fetches caused by tokens of an unknown key id' })
} satisfies TProperties
