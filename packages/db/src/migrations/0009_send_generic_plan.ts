// Frozen in time, like every migration: Kysely<any>, nothing imported from
// the application.
//
// The send function plans its batch statement once per connection. PL/pgSQL
// prepares each statement, and by default PostgreSQL plans a prepared
// statement afresh (a custom plan) on each of its first five runs before it
// settles on the generic plan it keeps. The batch statement is large: each
// of those plans cost 3 to 8 ms on this project's test machine, paid by the
// batch on the connection's second to sixth call, so every new pool
// connection (the pool closes idle ones and opens them again under load)
// gave five batches a tail of several milliseconds. The custom plans buy
// nothing here: the statement's only parameter is the batch, whose
// contents the planner does not look into, and its joins are index lookups
// whatever the statistics (0008's settings).
import { sql, type Kysely } from 'kysely'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter function chat_send_messages(jsonb) set plan_cache_mode = force_generic_plan`.execute(db)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter function chat_send_messages(jsonb) reset plan_cache_mode`.execute(db)
}
