// Frozen in time, like every migration: Kysely<any>, nothing imported from
// the application.
//
// rate_limits: fixed-window counters every replica shares (failed logins
// per name, registrations per address, requests per user and service).
// UNLOGGED: a counter is worth no WAL write, and losing the table in a crash
// only forgives the attempts of the current window.
import { sql, type Kysely } from 'kysely'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create unlogged table rate_limits (
      key text primary key,
      count integer not null,
      reset_at timestamptz not null
    )
  `.execute(db)
  // Expired windows are deleted in batches, oldest first.
  await sql`create index rate_limits_reset_at on rate_limits (reset_at)`.execute(db)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table rate_limits`.execute(db)
}
