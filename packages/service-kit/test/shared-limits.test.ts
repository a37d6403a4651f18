import t from 'tap'
import { createPgliteTestDatabase, createTestDatabase } from '@chat/db/testing'
import { createServiceApp, createTokenVerifier, databaseLimitCounter, generateSigningKey, staticKeyResolver } from '../src/index.js'
import type { Database } from '@chat/db'
import { sql, type Kysely } from 'kysely'
import { deleteEndedWindows } from '../src/shared-limits.js'

async function replica(db: Kysely<Database>) {
  const app = await createServiceApp({
    title: 't',
    verifier: createTokenVerifier(staticKeyResolver([generateSigningKey()])),
    readiness: {},
    logger: false,
    userRps: 1,
    limitStore: 'database',
    limitsDb: db
  })
  app.get('/things', async () => ({ ok: true }))
  await app.ready()
  return app
}

t.test('the per-user request limit counts in the database: two replicas share one window, synced in the background', async (t) => {
  const { db } = await createTestDatabase(t)
  const [a, b] = await Promise.all([replica(db), replica(db)])
  t.teardown(async () => { await a.close(); await b.close() })
  // 1 request/s with bursts of 2: a 2-second window of 2 requests per address and service.
  t.equal((await a.inject({ url: '/things' })).statusCode, 200)
  t.equal((await b.inject({ url: '/things' })).statusCode, 200)
  // The replicas add their counts to the shared window every quarter second, not per request.
  await new Promise((resolve) => setTimeout(resolve, 700))
  const limited = await a.inject({ url: '/things' })
  t.equal(limited.statusCode, 429, 'the third request in the window, on either replica')
  t.equal(limited.json().code, 'rate_limited')
  t.ok(Number(limited.headers['retry-after']) >= 1)
  t.equal((await b.inject({ url: '/things' })).statusCode, 429)
})

t.test('database counters: windows, reset, separate names, and PGlite (the standalone engine) alike', async (t) => {
  for (const { db, kind } of [await createTestDatabase(t), await createPgliteTestDatabase(t)]) {
    const logins = databaseLimitCounter(db, { name: 'logins', limit: 2, windowMs: 300 })
    const other = databaseLimitCounter(db, { name: 'other', limit: 2, windowMs: 300 })
    t.equal(await logins.hit('ada'), 0, kind)
    t.equal(await logins.hit('ada'), 0)
    t.equal(await logins.hit('ada'), 1, `${kind}: over the limit, wait (at least a second)`)
    t.equal(await other.hit('ada'), 0, 'another limit counts apart')
    t.equal(await logins.hit('bob'), 0, 'another key counts apart')
    await logins.reset('ada')
    t.equal(await logins.hit('ada'), 0, 'a reset starts the window again')
    await logins.hit('ada')
    t.equal(await logins.hit('ada'), 1)
    await new Promise((resolve) => setTimeout(resolve, 350))
    t.equal(await logins.hit('ada'), 0, `${kind}: a new window once the old one ended`)
    const off = databaseLimitCounter(db, { name: 'off', limit: 0, windowMs: 300 })
    for (let index = 0; index < 5; index++) t.equal(await off.hit('ada'), 0)
  }
})

t.test('the sweep deletes ended windows, the oldest first and at most 1,000 a time, and keeps live ones', async (t) => {
  for (const { db, kind } of [await createTestDatabase(t), await createPgliteTestDatabase(t)]) {
    // 1,002 windows that ended, one second apart, stored newest first (so that
    // a delete in the table's order would take the newest), and one still running.
    await sql`
      insert into rate_limits (key, count, reset_at)
      select 'ended:' || n, 1, now() - n * interval '1 second' from generate_series(1, 1002) as n
      union all select 'live:ada', 1, now() + interval '1 minute'
    `.execute(db)
    await deleteEndedWindows(db)
    const left = await db.selectFrom('rate_limits').select('key').orderBy('reset_at').execute()
    t.same(left.map((row) => row.key), ['ended:2', 'ended:1', 'live:ada'], `${kind}: a batch of the 1,000 oldest went`)
    await deleteEndedWindows(db)
    t.same((await db.selectFrom('rate_limits').select('key').execute()).map((row) => row.key), ['live:ada'], `${kind}: then the rest; the live window stays`)
  }
})
