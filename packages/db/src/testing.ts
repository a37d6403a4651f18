// Test databases for node-tap files: each file gets its own PostgreSQL
// database, cloned from a migrated template, and drops it on teardown.
import { createHash, randomBytes } from 'node:crypto'
import { PGlite } from '@electric-sql/pglite'
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import { Client } from 'pg'
import { databaseUrl, quoteIdent } from './admin.js'
import { createDb, createPgliteDb } from './connection.js'
import type { DbKind } from './connection.js'
import { migrateToLatest } from './migrate.js'
import { migrations } from './migrations/index.js'
import type { Database } from './schema.js'

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres'
const TEMPLATE_PATTERN = /^chat_tpl_[0-9a-f]{8}$/
const TEST_DB_PATTERN = /^chat_test_(\d+)_[0-9a-f]+$/
const LEAKED_AFTER_SECONDS = 60 * 60
const KEPT_TEMPLATES = 8
// Builders of a template hold this lock exclusively, cloners share it: a
// template is never dropped or half-built while another process clones it.
const TEMPLATE_LOCK_KEY = 0x63686174 // 'chat'

/** What a test gets: a migrated database of its own. */
export interface TestDatabase {
  db: Kysely<Database>
  /** The postgres:// URL of this test's database, or `memory://` for PGlite. */
  url: string
  kind: DbKind
}

/** The part of a tap `t` the helper needs. */
export interface TeardownHost {
  teardown(fn: () => unknown): void
}

/** The PostgreSQL server tests use: DATABASE_URL, or the local default. Test databases are created next to it. */
export function testDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? DEFAULT_URL
}

/** True when REQUIRE_INFRA=1: tests must fail rather than fall back to in-process substitutes. */
export function requireInfra(): boolean {
  return process.env.REQUIRE_INFRA === '1'
}

/**
 * A migrated database for one test file, dropped when `t` ends. On PostgreSQL
 * it is cloned from a template database (`chat_tpl_<hash>`, built once per
 * migration set) so each file costs one CREATE DATABASE, not a migration run.
 * `serverUrl` puts it on another server than DATABASE_URL's (a test's own).
 * Without a reachable PostgreSQL it falls back to an in-memory PGlite, unless
 * REQUIRE_INFRA=1, in which case it throws.
 *
 * @example
 * const { db } = await createTestDatabase(t)
 */
export async function createTestDatabase(t: TeardownHost, options: { serverUrl?: string } = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? testDatabaseUrl()
  let admin: Client
  try {
    admin = await connectAdmin(serverUrl)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    if (requireInfra()) {
      throw new Error(`PostgreSQL not reachable at ${redact(serverUrl)} and REQUIRE_INFRA=1: ${reason}`, { cause: error })
    }
    process.stdout.write(`# PostgreSQL not reachable at ${redact(serverUrl)} (${reason}), using PGlite in memory\n`)
    return createPgliteTestDatabase(t)
  }

  const name = `chat_test_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`
  try {
    // A process with another migration set (another checkout) drops this
    // template as stale while it builds its own; it does so under the
    // exclusive lock, so the template is checked again under the shared one
    // and built again when it went away in between.
    for (let attempt = 1; ; attempt++) {
      const template = await ensureTemplate(admin, serverUrl)
      await admin.query('select pg_advisory_lock_shared($1)', [TEMPLATE_LOCK_KEY])
      let cloned = false
      try {
        if (await isTemplate(admin, template)) {
          await admin.query(`create database ${quoteIdent(name)} template ${quoteIdent(template)}`)
          cloned = true
        }
      } finally {
        await admin.query('select pg_advisory_unlock_shared($1)', [TEMPLATE_LOCK_KEY])
      }
      if (cloned) break
      if (attempt >= 5) throw new Error(`template database ${template} keeps being dropped by another process`)
    }
    await dropLeakedTestDatabases(admin)
  } finally {
    await admin.end()
  }

  const url = databaseUrl(serverUrl, name)
  const handle = await createDb(url, { poolSize: 5 })
  t.teardown(async () => {
    await handle.destroy()
    const dropper = await connectAdmin(serverUrl)
    try {
      await dropper.query(`drop database if exists ${quoteIdent(name)} with (force)`)
    } finally {
      await dropper.end()
    }
  })
  return { db: handle.db, url, kind: handle.kind }
}

/**
 * A migrated in-memory PGlite database, closed when `t` ends: for tests that
 * must run on PGlite (the standalone engine) whatever server is around.
 */
export async function createPgliteTestDatabase(t: TeardownHost): Promise<TestDatabase> {
  const handle = await createPgliteDb('memory://', { loadDataDir: await migratedPgliteImage() })
  t.teardown(() => handle.destroy())
  return { db: handle.db, url: 'memory://', kind: handle.kind }
}

// initdb and the migrations take seconds in WASM; loading a dumped image of
// their result takes a fraction of that. Built once per process, on first use.
let pgliteImage: Promise<Blob> | undefined

function migratedPgliteImage(): Promise<Blob> {
  pgliteImage ??= buildPgliteImage().catch((error: unknown) => {
    pgliteImage = undefined
    throw error
  })
  return pgliteImage
}

async function buildPgliteImage(): Promise<Blob> {
  const pglite = await PGlite.create('memory://')
  const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) })
  try {
    await migrateToLatest(db)
    return await pglite.dumpDataDir('none')
  } finally {
    await db.destroy()
  }
}

async function connectAdmin(serverUrl: string): Promise<Client> {
  const client = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000, application_name: 'chat-db-testing' })
  // A server that goes away mid-test would otherwise crash the process with an unhandled 'error'.
  client.on('error', () => {})
  await client.connect()
  return client
}

/** The name of the template database of the current migrations (`chat_tpl_<fingerprint>`). */
export async function testTemplateName(): Promise<string> {
  return `chat_tpl_${await migrationsFingerprint()}`
}

/** Returns the name of the migrated template for the current migrations, building it if needed. */
async function ensureTemplate(admin: Client, serverUrl: string): Promise<string> {
  const template = await testTemplateName()
  if (await isTemplate(admin, template)) return template

  await admin.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY])
  try {
    // Another process may have built it while this one waited for the lock.
    if (await isTemplate(admin, template)) return template

    // Build under another name and rename when complete, so a crash half-way
    // never leaves a half-migrated database under the template's name.
    const building = `${template}_building`
    await admin.query(`drop database if exists ${quoteIdent(building)} with (force)`)
    await admin.query(`drop database if exists ${quoteIdent(template)} with (force)`)
    await admin.query(`create database ${quoteIdent(building)}`)
    const handle = await createDb(databaseUrl(serverUrl, building), { poolSize: 1 })
    try {
      await migrateToLatest(handle.db)
    } finally {
      await handle.destroy()
    }
    await admin.query(`alter database ${quoteIdent(building)} rename to ${quoteIdent(template)}`)
    // Nobody may connect to a template: a connection would make cloning fail.
    await admin.query(`alter database ${quoteIdent(template)} with is_template true allow_connections false`)

    await dropStaleTemplates(admin, template)
    return template
  } finally {
    await admin.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY])
  }
}

async function isTemplate(admin: Client, name: string): Promise<boolean> {
  const { rows } = await admin.query('select 1 from pg_database where datname = $1 and datistemplate', [name])
  return rows.length > 0
}

/**
 * Best effort: templates of older migration sets would otherwise pile up.
 * The newest few stay: other checkouts on the same server (branches with
 * other migrations) use theirs, and dropping each other's would have them
 * rebuild in turn forever. Runs under the exclusive lock.
 */
async function dropStaleTemplates(admin: Client, current: string): Promise<void> {
  // OIDs grow with creation: the newest templates first.
  const { rows } = await admin.query<{ datname: string }>("select datname from pg_database where datname like 'chat\\_tpl\\_%' order by oid desc")
  const kept = new Set(rows.filter(({ datname }) => TEMPLATE_PATTERN.test(datname)).slice(0, KEPT_TEMPLATES).map(({ datname }) => datname))
  for (const { datname } of rows) {
    if (datname === current || kept.has(datname) || !TEMPLATE_PATTERN.test(datname)) continue
    try {
      await admin.query(`alter database ${quoteIdent(datname)} with is_template false`)
      await admin.query(`drop database if exists ${quoteIdent(datname)}`)
    } catch {
      // Someone else's problem now; the next build tries again.
    }
  }
}

/** Best effort: databases of test processes that died before their teardown. The name carries the creation time. */
async function dropLeakedTestDatabases(admin: Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>("select datname from pg_database where datname like 'chat\\_test\\_%'")
  const now = Math.floor(Date.now() / 1000)
  for (const { datname } of rows) {
    const createdAt = TEST_DB_PATTERN.exec(datname)?.[1]
    if (createdAt === undefined || now - Number(createdAt) < LEAKED_AFTER_SECONDS) continue
    try {
      await admin.query(`drop database if exists ${quoteIdent(datname)} with (force)`)
    } catch {
      // Another process may be dropping it at the same moment.
    }
  }
}

/**
 * First 8 hex digits of a SHA-256 over each migration's name and the SQL its
 * `up` compiles to. Hashing the SQL, not the function source, gives the same
 * template whether migrations run from dist or from TypeScript under tsx.
 */
async function migrationsFingerprint(): Promise<string> {
  const hash = createHash('sha256')
  const recorder = new Kysely<unknown>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler()
    },
    log: (event) => {
      hash.update(event.query.sql)
      hash.update(JSON.stringify(event.query.parameters))
    }
  })
  try {
    for (const name of Object.keys(migrations).sort()) {
      hash.update(`\0${name}\0`)
      await migrations[name]?.up(recorder)
    }
  } finally {
    await recorder.destroy()
  }
  return hash.digest('hex').slice(0, 8)
}


function redact(serverUrl: string): string {
  try {
    const url = new URL(serverUrl)
    if (url.password !== '') url.password = '***'
    return url.toString()
  } catch {
    return '(unparseable DATABASE_URL)'
  }
}
