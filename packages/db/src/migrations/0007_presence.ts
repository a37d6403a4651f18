// Frozen in time, like every migration: Kysely<any>, nothing imported from
// the application.
//
// Presence (issue 18): who is online lives in NATS (the gateways' presence
// updates, which lapse on their own); the database keeps only when each user
// was last seen, written when their last socket closes (after the debounce)
// or when their gateway stopped answering: once per session, never per
// heartbeat. Null: not seen since presence began.
import { sql, type Kysely } from 'kysely'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table users add column last_seen_at timestamptz`.execute(db)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table users drop column last_seen_at`.execute(db)
}
