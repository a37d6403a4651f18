import { PGlite, types as pgliteTypes } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, sql } from 'kysely'
import type { LogEvent } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import { Client, Pool, TypeOverrides } from 'pg'
import type { Database } from './schema.js'

/** Which engine a {@link DbHandle} talks to. */
export type DbKind = 'postgres' | 'pglite'

/** The part of a pino/Fastify logger the database uses. */
export interface DbLogger {
  debug(fields: Record<string, unknown>, message: string): void
  error(fields: Record<string, unknown>, message: string): void
}

export interface CreateDbOptions {
  /** Maximum connections of the pg pool (default 10). Ignored for PGlite, which has one. */
  poolSize?: number
  /** Receives every query at debug level and every failed query at error level. */
  logger?: DbLogger
}

export interface DbHandle {
  db: Kysely<Database>
  kind: DbKind
  /**
   * `select 1` on a connection of its own, never one of the pool's: a
   * readiness probe must not queue behind requests that hold every pooled
   * connection (a busy process is not a broken one). PGlite has one
   * connection and no pool to wait in.
   */
  ping: () => Promise<void>
  /** Closes the pool (or the PGlite instance). The handle is unusable afterwards. */
  destroy: () => Promise<void>
  /**
   * The pg pool's connections right now, for the metrics (read on scrape);
   * absent for PGlite, which has one connection and no pool.
   */
  poolStats?: () => PoolStats
}

export interface PoolStats {
  /** Connections open (idle and lent out). */
  total: number
  idle: number
  /** Queries waiting for a connection: non-zero with `total == max` is an exhausted pool. */
  waiting: number
  max: number
}

/** A connection kept for {@link DbHandle.ping}: opened on first use, opened again after it is lost. */
function dedicatedPinger(connectionString: string, report: (error: Error, message: string) => void): { ping(): Promise<void>; close(): Promise<void> } {
  let client: Client | undefined
  let connecting: Promise<Client> | undefined
  let closed = false
  const open = async (): Promise<Client> => {
    const next = new Client({ connectionString, connectionTimeoutMillis: 2_000, statement_timeout: 2_000 })
    // Without a listener a lost connection would end the process.
    next.on('error', (error) => {
      report(error, 'health-check database connection lost')
      if (client === next) client = undefined
    })
    try {
      await next.connect()
    } catch (error) {
      await next.end().catch(() => {})
      throw error
    }
    return next
  }
  return {
    async ping() {
      if (closed) throw new Error('the database handle is closed')
      if (!client) {
        connecting ??= open().finally(() => { connecting = undefined })
        client = await connecting
      }
      const current = client
      try {
        await current.query('select 1')
      } catch (error) {
        // A failed probe starts over on a fresh connection next time.
        if (client === current) client = undefined
        await current.end().catch(() => {})
        throw error
      }
    },
    async close() {
      closed = true
      const current = client ?? (await connecting?.catch(() => undefined))
      client = undefined
      await current?.end().catch(() => {})
    }
  }
}

const INT8_OID = 20

/**
 * int8 (bigint, count(*)) as a JS number, on both engines alike. pg would give
 * a string and PGlite a number or a bigint; seq counters stay far below 2^53.
 * Beyond that a bigint comes back rather than a silently rounded number, which
 * is what PGlite does by default: loud (JSON.stringify throws) instead of wrong.
 */
function parseInt8(value: string): number | bigint {
  const parsed = Number(value)
  return Number.isSafeInteger(parsed) ? parsed : BigInt(value)
}

/** pg gives bytea as Buffer; PGlite as a plain Uint8Array. Buffer on both, so replies can send it as is. */
function parseByteaHex(value: string): Buffer {
  // Text format of bytea is '\x' followed by hex (bytea_output = hex, the default).
  return Buffer.from(value.slice(2), 'hex')
}

/** True for `postgres://` and `postgresql://` URLs, which {@link createDb} opens with pg. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target)
}

/**
 * Opens the database that `target` names: a `postgres://` or `postgresql://`
 * URL opens a pg pool; anything else is a PGlite data directory (a folder
 * path, or `memory://` for a throwaway in-memory database).
 * Both return int8 as number, timestamptz as Date and bytea as Buffer.
 *
 * @example
 * const { db, destroy } = await createDb(config.databaseUrl, { poolSize: 20, logger: app.log })
 * // ... on shutdown
 * await destroy()
 */
export async function createDb(target: string, options: CreateDbOptions = {}): Promise<DbHandle> {
  if (isPostgresUrl(target)) {
    // Per-pool overrides: the global pg.types.setTypeParser would change
    // every other pg user in the process too.
    const types = new TypeOverrides()
    types.setTypeParser(INT8_OID, parseInt8)
    const pool = new Pool({
      connectionString: target,
      max: options.poolSize ?? 10,
      types,
      // A stalled database must fail requests (503), not hang them.
      connectionTimeoutMillis: 5_000,
      statement_timeout: 30_000,
      idle_in_transaction_session_timeout: 60_000
    })
    const report = (error: Error, message: string): void => {
      if (options.logger !== undefined) options.logger.error({ err: error }, message)
      else console.error(`${message}:`, error.message)
    }
    // An idle client losing its connection emits 'error' on the pool; without
    // a listener that would crash the process. The pool replaces the client.
    pool.on('error', (error) => report(error, 'idle database connection failed'))
    // A checked-out client has no pool listener (pg-pool removes it while the
    // client is lent out), so a server restart or a cut connection during a
    // query or a transaction would emit an unhandled 'error' and end the
    // process. The query itself fails with the same error (a 503 upstream)
    // and the pool discards the broken client when it is released.
    pool.on('connect', (client) => {
      client.on('error', (error) => report(error, 'database connection lost while in use'))
    })
    const log = options.logger === undefined ? undefined : queryLogger(options.logger)
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log })
    const pinger = dedicatedPinger(target, report)
    return {
      db,
      kind: 'postgres',
      ping: () => pinger.ping(),
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max ?? 10 }),
      destroy: async () => {
        await pinger.close()
        await db.destroy()
      }
    }
  }

  return createPgliteDb(target, options)
}

/**
 * The PGlite half of {@link createDb}; `loadDataDir` starts from an image made
 * by `PGlite.dumpDataDir()` instead of running initdb (the testing helper
 * uses it: initdb in WASM takes seconds). Not part of the package's index.
 */
export async function createPgliteDb(dataDir: string, options: CreateDbOptions & { loadDataDir?: Blob } = {}): Promise<DbHandle> {
  const pglite = await PGlite.create(dataDir, {
    parsers: { [pgliteTypes.INT8]: parseInt8, [pgliteTypes.BYTEA]: parseByteaHex },
    loadDataDir: options.loadDataDir
  })
  const log = options.logger === undefined ? undefined : queryLogger(options.logger)
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite), log })
  const destroy = async (): Promise<void> => {
    await db.destroy()
    // Kysely closes PGlite only if a query ever ran; an unused instance would
    // otherwise stay open and keep the process alive.
    if (!pglite.closed) await pglite.close()
  }
  return { db, kind: 'pglite', ping: async () => { await sql`select 1`.execute(db) }, destroy }
}

function queryLogger(logger: DbLogger): (event: LogEvent) => void {
  return (event) => {
    const fields = { sql: event.query.sql, durationMs: Math.round(event.queryDurationMillis) }
    if (event.level === 'error') logger.error({ ...fields, err: event.error }, 'query failed')
    else logger.debug(fields, 'query')
  }
}
