// Frozen in time, like every migration: Kysely<any>, nothing imported from
// the application.
//
// The send function plans its batch statement once per connection. PL/pgSQL
// prepares each statement, and by default PostgreSQL plans a prepared
// statement afresh (a custom plan) on each of its first five runs, and only
// then may keep a generic plan. The batch statement is large: psql's \timing
// of an empty batch on a new connection gave 36.9, 7.9, 3.9, 4.4, 2.9, 3.1,
// 0.6 and 0.4 ms for the first eight calls, and with this setting 37.3, 1.8,
// 0.9, 0.8, 0.7, 0.5, 0.5 and 0.5 (the first call loads the catalogs and
// compiles the function either way). So every new pool connection (the pool
// closes idle ones and opens them again under load) gave five batches a tail
// of several milliseconds. The custom plans buy nothing here: the
// statement's only parameter is the batch, whose contents the planner does
// not look into, and its joins are index lookups whatever the statistics
// (0008's settings). A later `create or replace` of the function drops this
// setting with 0008's: send-plan.test.ts would say so.
import { sql, type Kysely } from 'kysely'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter function chat_send_messages(jsonb) set plan_cache_mode = force_generic_plan`.execute(db)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter function chat_send_messages(jsonb) reset plan_cache_mode`.execute(db)
}
