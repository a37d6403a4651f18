import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Client } from 'pg'
import { createTestDatabase, requireInfra, testDatabaseUrl, testTemplateName } from '../src/testing.js'
import type { TeardownHost } from '../src/testing.js'

/** Sets environment variables for one test, restoring them on teardown. */
function withEnv(t: TeardownHost, values: Record<string, string | undefined>): void {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]))
  const apply = (entries: Record<string, string | undefined>): void => {
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
  apply(values)
  t.teardown(() => apply(saved))
}

async function serverDatabases(): Promise<{ datname: string, datistemplate: boolean, datallowconn: boolean }[]> {
  const client = new Client({ connectionString: testDatabaseUrl() })
  await client.connect()
  try {
    const { rows } = await client.query<{ datname: string, datistemplate: boolean, datallowconn: boolean }>(
      'select datname, datistemplate, datallowconn from pg_database'
    )
    return rows
  } finally {
    await client.end()
  }
}

t.test('each test gets its own migrated database, dropped on teardown', async (t) => {
  let databaseName = ''
  let kind = ''
  await t.test('a test file', async (t) => {
    const testDb = await createTestDatabase(t)
    kind = testDb.kind
    const users = await testDb.db.selectFrom('users').selectAll().execute()
    t.same(users, [], 'migrated and empty')
    if (testDb.kind === 'postgres') {
      databaseName = new URL(testDb.url).pathname.slice(1)
      t.match(databaseName, /^chat_test_\d+_[0-9a-f]{8}$/)
      t.ok((await serverDatabases()).some((row) => row.datname === databaseName), 'exists while the test runs')
    } else {
      t.equal(testDb.url, 'memory://')
    }
  })
  if (kind !== 'postgres') {
    await t.skip('PostgreSQL not reachable: nothing to drop', () => {})
    return
  }
  const databases = await serverDatabases()
  t.notOk(databases.some((row) => row.datname === databaseName), 'dropped after the test ended')
  const templates = databases.filter((row) => /^chat_tpl_[0-9a-f]{8}$/.test(row.datname))
  // Other checkouts sharing the server keep theirs: the newest eight stay.
  t.ok(templates.length >= 1 && templates.length <= 8, `one template per recent migration set (${templates.length})`)
  t.same(
    templates.map(({ datistemplate, datallowconn }) => ({ datistemplate, datallowconn })),
    templates.map(() => ({ datistemplate: true, datallowconn: false })),
    'marked as templates nobody connects to'
  )
})

t.test('two test databases in one file are independent', async (t) => {
  const first = await createTestDatabase(t)
  const second = await createTestDatabase(t)
  if (first.kind === 'postgres') t.not(first.url, second.url, 'two databases on the server')
  await first.db.insertInto('users').values({ display_name: 'Ada', display_name_key: 'ada', password_hash: 'x' }).execute()
  t.same(await second.db.selectFrom('users').select('display_name').execute(), [], 'nothing leaks between them')
})

t.test('an unreachable server fails the test when REQUIRE_INFRA=1', async (t) => {
  withEnv(t, { DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/postgres', REQUIRE_INFRA: '1' })
  t.equal(requireInfra(), true)
  const host = { teardown: () => t.fail('nothing to tear down') }
  await t.rejects(createTestDatabase(host), /^PostgreSQL not reachable at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/postgres and REQUIRE_INFRA=1/)
})

t.test('an unreachable server falls back to a migrated PGlite otherwise', async (t) => {
  withEnv(t, { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres', REQUIRE_INFRA: undefined })
  t.equal(requireInfra(), false)
  const testDb = await createTestDatabase(t)
  t.equal(testDb.kind, 'pglite')
  t.equal(testDb.url, 'memory://')
  t.same(await testDb.db.selectFrom('rooms').selectAll().execute(), [], 'migrated')
})

t.test('testDatabaseUrl reads DATABASE_URL, with a local default', async (t) => {
  withEnv(t, { DATABASE_URL: undefined })
  t.equal(testDatabaseUrl(), 'postgres://postgres@127.0.0.1:5432/postgres')
  process.env.DATABASE_URL = 'postgres://elsewhere/db'
  t.equal(testDatabaseUrl(), 'postgres://elsewhere/db')
})

t.test('an unused PGlite test database does not keep the process alive', async (t) => {
  // Regression: Kysely closes a driver only after a query, and a PGlite loaded
  // from an image kept the process running until the tap timeout.
  const script = `
    import { createPgliteTestDatabase } from './src/testing.ts'
    const teardowns = []
    await createPgliteTestDatabase({ teardown: (fn) => teardowns.push(fn) })
    for (const fn of teardowns) await fn()
    process.stdout.write('closed')
  `
  const packageDir = fileURLToPath(new URL('..', import.meta.url))
  const result = await new Promise<{ error: Error | null, stdout: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: packageDir, timeout: 90_000 }, (error, stdout) => {
      resolve({ error, stdout })
    })
  })
  t.equal(result.error, null, 'exited by itself')
  t.equal(result.stdout, 'closed')
})

t.test('a template dropped between its check and the clone (another checkout building its own) is built again', async (t) => {
  const first = await createTestDatabase(t)
  if (first.kind !== 'postgres') return t.fail('needs PostgreSQL')
  const template = await testTemplateName()
  // Hold the builders' lock: the next clone finds the template, then waits for the lock to clone it.
  const rival = new Client({ connectionString: testDatabaseUrl() })
  await rival.connect()
  t.teardown(() => rival.end())
  await rival.query('select pg_advisory_lock($1)', [0x63686174])
  const second = createTestDatabase(t)
  const deadline = Date.now() + 30_000
  for (;;) {
    const { rows } = await rival.query(
      "select 1 from pg_locks l join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' and not l.granted and a.application_name = 'chat-db-testing'"
    )
    if (rows.length > 0) break
    if (Date.now() > deadline) throw new Error('the clone never waited for the lock')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  // What a checkout with other migrations does to this one's template while building its own.
  await rival.query(`alter database "${template}" with is_template false`)
  await rival.query(`drop database "${template}"`)
  await rival.query('select pg_advisory_unlock($1)', [0x63686174])
  const cloned = await second
  t.same(await cloned.db.selectFrom('users').selectAll().execute(), [], 'a migrated database all the same')
  t.ok((await serverDatabases()).some((row) => row.datname === template && row.datistemplate), 'the template is back')
})
