// The send function's plan must stay index lookups as the tables grow
// (migration 0008), and be made once per connection (0009). PL/pgSQL keeps
// a plan for the connection's life: planned while messages was small, the
// batch statement hashed the whole table for the reply lookup, and every
// send of a long-lived pool connection got dearer with every message
// stored. auto_explain (a PostgreSQL module, not in PGlite) shows the plan
// the function actually runs.
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { createTestDatabase } from '../src/testing.js'

/** A connection of its own to a fresh test database; undefined (the test planned as skipped) on PGlite. */
async function serverConnection(t: Test): Promise<pg.Client | undefined> {
  const { url, kind } = await createTestDatabase(t)
  if (kind !== 'postgres') {
    t.plan(0, 'auto_explain needs a PostgreSQL server (set REQUIRE_INFRA=1 to fail instead)')
    return undefined
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  t.teardown(() => client.end())
  return client
}

/** From now on, every statement's plan (those inside functions too) arrives as a notice in `notices`. */
async function explainInto(client: pg.Client, notices: string[], options = ''): Promise<void> {
  client.on('notice', (notice) => notices.push(notice.message ?? ''))
  await client.query("load 'auto_explain'")
  await client.query(`set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on; set auto_explain.log_level = notice${options}`)
}

t.test('a connection that planned the send batch on empty tables still uses indexes after 20,000 messages', async (t) => {
  const client = await serverConnection(t)
  if (!client) return
  const user = (await client.query<{ id: string }>("insert into users (display_name, display_name_key, password_hash) values ('ada', 'ada', 'x') returning id")).rows[0]!.id
  const rooms = (await client.query<{ id: string }>("insert into rooms (name, created_by) values ('a', $1), ('b', $1) returning id", [user])).rows.map((row) => row.id)
  const [room, bulkRoom] = rooms as [string, string]
  await client.query("insert into room_participants (room_id, user_id, role) values ($1, $3, 'owner'), ($2, $3, 'owner')", [room, bulkRoom, user])
  const send = (): Promise<unknown> =>
    client.query('select ord, status from chat_send_messages($1::jsonb)', [
      JSON.stringify([{ ord: 0, id: randomUUID(), room_id: room, sender_id: user, text: 'hi', client_msg_id: null, created_at: new Date().toISOString(), check_only: false, reply_to: null, mention_tokens: [], mention_ids: [] }])
    ])
  // Several calls on the connection, as a pool connection makes, before the tables grow.
  for (let index = 0; index < 8; index++) await send()
  await client.query("insert into messages (id, room_id, seq, sender_id, text) select gen_random_uuid(), $1, g, $2, 'bulk' from generate_series(1, 20000) g", [bulkRoom, user])

  const notices: string[] = []
  await explainInto(client, notices)
  await send()
  const plan = notices.find((notice) => notice.includes('jsonb_to_recordset(batch)'))
  t.ok(plan, 'auto_explain showed the batch statement')
  t.notMatch(plan ?? '', /Seq Scan/, 'no sequential scan of messages, rooms, room_participants or users')
  t.match(plan ?? '', /Index Scan using messages_pkey on messages t/, 'the reply lookup is an index lookup')
})

t.test('a new connection plans the send batch once: its generic plan from the first call, not five custom plans first', async (t) => {
  const client = await serverConnection(t)
  if (!client) return
  const notices: string[] = []
  // Verbose plans name what each function scan is called with: the batch itself in a custom plan, $1 in the generic one.
  await explainInto(client, notices, '; set auto_explain.log_verbose = on')
  for (let call = 1; call <= 2; call++) {
    notices.length = 0
    await client.query("select ord from chat_send_messages('[]'::jsonb)")
    const plan = notices.find((notice) => notice.includes('Function Call: jsonb_to_recordset'))
    t.ok(plan, `call ${call}: auto_explain showed the batch statement`)
    t.match(plan ?? '', /Function Call: jsonb_to_recordset\(\$1\)/, `call ${call}: the generic plan (planned for any batch)`)
  }
})
