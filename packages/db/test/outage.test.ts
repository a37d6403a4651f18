// The pool under a database restart: PostgreSQL stopped in immediate mode
// while clients are checked out (a query running, a transaction open) must
// fail those queries, not the process, and the pool must serve again once the
// server is back. Runs against a private server (the shared one is never
// stopped); skipped only when PostgreSQL's server binaries are missing and
// REQUIRE_INFRA is not set.
import t from 'tap'
import { sql } from 'kysely'
import { createDb } from '../src/connection.js'
import { findPostgresBinDir, startPostgresServer } from '@chat/process-kit'
import { requireInfra } from '../src/testing.js'

if (!findPostgresBinDir() && !requireInfra()) {
  t.plan(0, 'PostgreSQL server binaries are not installed')
} else {
  t.test('a checked-out client losing its server fails its query, not the process; the pool recovers', async (t) => {
    const server = await startPostgresServer()
    t.teardown(() => server.destroy())
    const logged: string[] = []
    const logger = { debug: () => {}, error: (_fields: Record<string, unknown>, message: string) => void logged.push(message) }
    const { db, destroy } = await createDb(server.url, { poolSize: 3, logger })
    t.teardown(destroy)
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown): void => void uncaught.push(error)
    // tap would report an uncaught exception as a failure of its own; collect it to name it.
    process.on('uncaughtException', onUncaught)
    t.teardown(() => void process.removeListener('uncaughtException', onUncaught))

    await sql`select 1`.execute(db)
    // One client busy in a query, one lent to a transaction that waits between statements.
    const running = sql`select pg_sleep(30)`.execute(db).then(() => 'finished', (error: Error) => error.message)
    let releaseTransaction!: () => void
    const held = new Promise<void>((resolve) => { releaseTransaction = resolve })
    const transaction = db
      .transaction()
      .execute(async (trx) => {
        await sql`select 1`.execute(trx)
        await held
        await sql`select 2`.execute(trx)
      })
      .then(() => 'committed', (error: Error) => error.message)
    await new Promise((wake) => setTimeout(wake, 300))

    await server.stop('immediate')
    t.match(await running, /terminat|shut ?down|connection/i, 'the running query fails')
    releaseTransaction()
    t.match(await transaction, /terminat|shut ?down|connection|not queryable/i, 'the open transaction fails')
    // Let the emitted 'error' events (if unhandled, fatal) happen.
    await new Promise((wake) => setTimeout(wake, 200))
    t.same(uncaught, [], 'no uncaught exception')
    t.ok(logged.includes('database connection lost while in use'), 'the loss is logged')

    const whileDown = await sql`select 1`.execute(db).then(() => undefined, (error: Error & { code?: string }) => error)
    t.ok(whileDown, 'a query while the server is down fails')

    await server.start()
    const { rows } = await sql<{ answer: number }>`select 42 as answer`.execute(db)
    t.equal(rows[0]?.answer, 42, 'the pool serves again once the server is back')
  })
}
