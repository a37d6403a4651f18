import t from 'tap'
import { NO_MIGRATIONS, sql } from 'kysely'
import { createDb } from '../src/connection.js'
import { migrateToLatest, migrationStatus } from '../src/migrate.js'
import { migrations } from '../src/migrations/index.js'
import { migratorFor, openEngines } from './helper.js'

const appTables = [
  'message_mentions',
  'messages',
  'rate_limits',
  'reactions',
  'refresh_tokens',
  'room_avatars',
  'room_events',
  'room_events_outbox',
  'room_participants',
  'rooms',
  'user_blocks',
  'users'
]

t.test('the initial migration builds the schema', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      const tables = await sql<{ table_name: string }>`
        select table_name from information_schema.tables where table_schema = 'public' order by table_name
      `.execute(db)
      t.same(
        tables.rows.map((row) => row.table_name),
        [...appTables, 'kysely_migration', 'kysely_migration_lock'].sort(),
        'every table of schema.ts, plus the migrator bookkeeping'
      )

      const columns = await sql<{ key: string, data_type: string, column_default: string | null, is_nullable: string }>`
        select table_name || '.' || column_name as key, data_type, column_default, is_nullable
        from information_schema.columns where table_schema = 'public'
      `.execute(db)
      const column = new Map(columns.rows.map((row) => [row.key, row]))
      for (const key of ['rooms.last_seq', 'room_participants.last_read_seq', 'messages.seq', 'room_events.seq']) {
        t.equal(column.get(key)?.data_type, 'bigint', `${key} is int8`)
      }
      t.equal(column.get('room_events.payload')?.data_type, 'jsonb')
      t.equal(column.get('room_avatars.bytes')?.data_type, 'bytea')
      for (const key of ['users.created_at', 'rooms.last_activity_at', 'room_participants.joined_at', 'messages.created_at', 'reactions.updated_at', 'room_events.created_at']) {
        t.equal(column.get(key)?.data_type, 'timestamp with time zone', `${key} is timestamptz`)
        t.equal(column.get(key)?.column_default, 'now()', `${key} defaults to now()`)
      }
      for (const key of ['users.id', 'rooms.id', 'refresh_tokens.id']) {
        t.equal(column.get(key)?.column_default, 'gen_random_uuid()', `${key} is generated`)
      }
      t.equal(column.get('messages.id')?.column_default, null, 'message ids are made by the application (UUIDv7)')
      t.equal(column.get('messages.client_msg_id')?.is_nullable, 'YES')
      t.equal(column.get('room_events.published_at'), undefined, 'the outbox is a table of its own (0008)')
      t.equal(column.get('room_events_outbox.created_at')?.is_nullable, 'NO')

      const constraints = await sql<{ conname: string, contype: string, columns: string }>`
        select c.conname, c.contype,
          (select string_agg(a.attname, ',' order by k.ord)
             from unnest(c.conkey) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum) as columns
        from pg_constraint c where c.connamespace = 'public'::regnamespace
      `.execute(db)
      const constraint = new Map(constraints.rows.map((row) => [row.conname, `${row.contype}:${row.columns}`]))
      t.equal(constraint.get('users_display_name_key_unique'), 'u:display_name_key')
      t.equal(constraint.get('refresh_tokens_token_hash_unique'), 'u:token_hash')
      t.equal(constraint.get('messages_room_id_seq_unique'), 'u:room_id,seq')
      t.equal(constraint.get('messages_room_id_sender_id_client_msg_id_unique'), 'u:room_id,sender_id,client_msg_id')
      t.equal(constraint.get('room_events_pkey'), 'p:room_id,seq')
      t.equal(constraint.get('room_participants_pkey'), 'p:room_id,user_id')
      t.equal(constraint.get('reactions_pkey'), 'p:message_id,user_id')
      t.equal(constraint.get('room_avatars_pkey'), 'p:room_id')
      t.equal(constraint.get('messages_pkey'), 'p:id')
      for (const check of [
        'rooms_last_seq_check',
        'room_participants_role_check',
        'room_participants_last_read_seq_check',
        'room_avatars_width_check',
        'room_avatars_height_check',
        'room_avatars_size_check',
        'messages_seq_check',
        'room_events_seq_check'
      ]) {
        t.equal(constraint.get(check)?.[0], 'c', `check ${check}`)
      }

      const foreignKeys = await sql<{ key: string, action: string }>`
        select cl.relname || '.' || a.attname || ' -> ' || ref.relname as key, c.confdeltype as action
        from pg_constraint c
        join pg_class cl on cl.oid = c.conrelid
        join pg_class ref on ref.oid = c.confrelid
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
        where c.contype = 'f' and c.connamespace = 'public'::regnamespace
      `.execute(db)
      t.same(
        Object.fromEntries(foreignKeys.rows.map((row) => [row.key, row.action])),
        {
          'refresh_tokens.user_id -> users': 'c',
          'rooms.created_by -> users': 'r',
          'rooms.direct_user_low -> users': 'r',
          'rooms.direct_user_high -> users': 'r',
          'room_participants.room_id -> rooms': 'c',
          'room_participants.user_id -> users': 'r',
          'room_avatars.room_id -> rooms': 'c',
          'messages.room_id -> rooms': 'c',
          'messages.sender_id -> users': 'r',
          'messages.reply_to -> messages': 'c',
          'message_mentions.message_id -> messages': 'c',
          'message_mentions.user_id -> users': 'r',
          'message_mentions.room_id -> rooms': 'c',
          'reactions.message_id -> messages': 'c',
          'reactions.user_id -> users': 'r',
          'room_events.room_id -> rooms': 'c',
          'room_events_outbox.room_id -> rooms': 'c',
          'user_blocks.blocker_id -> users': 'c',
          'user_blocks.blocked_id -> users': 'c'
        },
        'foreign keys and their ON DELETE (c = cascade, r = restrict)'
      )

      const indexes = await sql<{ indexname: string, indexdef: string }>`
        select indexname, indexdef from pg_indexes where schemaname = 'public'
      `.execute(db)
      const index = new Map(indexes.rows.map((row) => [row.indexname, row.indexdef]))
      t.match(index.get('users_display_name_key_prefix_idx'), /\(display_name_key text_pattern_ops\)/)
      t.equal(index.get('rooms_last_activity_at_idx'), undefined, 'no index on the activity time: the send path updates it HOT (0008)')
      t.match(index.get('room_participants_user_id_idx'), /\(user_id, room_id\)/)
      t.match(index.get('refresh_tokens_family_id_idx'), /\(family_id\)/)
      t.match(index.get('refresh_tokens_user_id_idx'), /\(user_id\)/)
      t.equal(index.get('room_events_unpublished_idx'), undefined)
      t.match(index.get('room_events_outbox_pkey'), /UNIQUE INDEX .*\(room_id, seq\)/)
      t.match(index.get('room_events_outbox_created_at_idx'), /\(created_at\)/)
      t.match(index.get('messages_room_id_seq_unique'), /UNIQUE INDEX .*\(room_id, seq\)/)
      t.match(index.get('messages_reply_to_seq_idx'), /\(reply_to, seq\) WHERE \(reply_to IS NOT NULL\)/)
      t.match(index.get('message_mentions_user_room_seq_idx'), /\(user_id, room_id, seq\)/)
      t.match(index.get('room_participants_one_owner_idx'), /UNIQUE INDEX .*\(room_id\) WHERE \(role = 'owner'::text\)/)
      t.match(index.get('user_blocks_blocked_id_idx'), /\(blocked_id, blocker_id\)/)
    })
  }
})

t.test('status lists 0001_initial as executed, and migrating again does nothing', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      const status = await migrationStatus(db)
      t.same(status.map((entry) => entry.name), Object.keys(migrations))
      t.equal(status[0]?.name, '0001_initial')
      t.type(status[0]?.executedAt, Date)
      t.same(await migrateToLatest(db), [], 'nothing left to run')
    })
  }
})

t.test('a fresh database: pending, then migrated', async (t) => {
  const { db, destroy } = await createDb('memory://')
  t.teardown(destroy)
  t.same(await migrationStatus(db), Object.keys(migrations).map((name) => ({ name, executedAt: null })))
  t.same(await migrateToLatest(db), Object.keys(migrations))
  const [entry] = await migrationStatus(db)
  t.type(entry?.executedAt, Date)
})

t.test('a failing migration is named in the error', async (t) => {
  const { db, destroy } = await createDb('memory://')
  t.teardown(destroy)
  await sql`create table users (id int)`.execute(db)
  await t.rejects(migrateToLatest(db), /^migration 0001_initial failed: .*"users" already exists/)
  t.same(await migrationStatus(db), Object.keys(migrations).map((name) => ({ name, executedAt: null })), 'rolled back, still pending')
})

t.test('down drops everything, and up builds it again', async (t) => {
  const [server] = await openEngines(t)
  const db = server!.db
  const down = await migratorFor(db).migrateTo(NO_MIGRATIONS)
  t.equal(down.error, undefined)
  const remaining = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_name not like 'kysely%'
  `.execute(db)
  t.same(remaining.rows, [], 'no application table left')
  const functions = await sql<{ proname: string }>`select proname from pg_proc where proname in ('chat_send_messages', 'chat_mentioned_users')`.execute(db)
  t.same(functions.rows, [], 'no application function left')
  t.same(await migrateToLatest(db), Object.keys(migrations))
})

t.test('0003 down restores 0002: its send function, no thread columns, no mentions table', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      const source = async () =>
        (await sql<{ src: string }>`select prosrc as src from pg_proc where proname = 'chat_send_messages'`.execute(db)).rows.map((row) => row.src)
      const [latest] = await source()
      t.match(latest, /mention_tokens/, 'the latest function stores mentions')
      const down = await migratorFor(db).migrateTo('0002_send_batch')
      t.equal(down.error, undefined)
      const [restored] = await source()
      t.notMatch(restored, /reply_to|mention/, 'the function is 0002\'s again')
      const columns = await sql<{ column_name: string }>`
        select column_name from information_schema.columns where table_name = 'messages' and column_name in ('reply_to', 'reply_count', 'last_reply_at')`.execute(db)
      t.same(columns.rows, [])
      const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_name = 'message_mentions'`.execute(db)
      t.same(tables.rows, [])
      t.same(await migrateToLatest(db), Object.keys(migrations).filter((name) => name > '0002_send_batch'), 'every migration after 0002 again')
    })
  }
})

t.test('0006 gives every group room without an owner one: the creator when still in, else the longest-standing participant', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      t.equal((await migratorFor(db).migrateTo('0005_rate_limits')).error, undefined)
      const users = await sql<{ id: string }>`
        insert into users (display_name, display_name_key, password_hash)
        values ('a', 'a', 'x'), ('b', 'b', 'x'), ('c', 'c', 'x') returning id`.execute(db)
      const [a, b, c] = users.rows.map((row) => row.id) as [string, string, string]
      const rooms = await sql<{ id: string }>`
        insert into rooms (name, created_by) values ('kept', ${a}), ('creator in', ${a}), ('creator gone', ${a}) returning id`.execute(db)
      const [kept, creatorIn, creatorGone] = rooms.rows.map((row) => row.id) as [string, string, string]
      await sql`
        insert into room_participants (room_id, user_id, role, joined_at) values
          (${kept}, ${b}, 'owner', now()), (${kept}, ${a}, 'member', now() - interval '1 hour'),
          (${creatorIn}, ${c}, 'member', now() - interval '1 hour'), (${creatorIn}, ${a}, 'member', now()),
          (${creatorGone}, ${c}, 'member', now()), (${creatorGone}, ${b}, 'member', now() - interval '1 hour')`.execute(db)
      const direct = await sql<{ id: string }>`
        insert into rooms (name, created_by, kind, direct_user_low, direct_user_high)
        values ('', ${a}, 'direct', least(${a}::uuid, ${b}::uuid), greatest(${a}::uuid, ${b}::uuid)) returning id`.execute(db)
      const directId = direct.rows[0]!.id
      await sql`insert into room_participants (room_id, user_id, role) values (${directId}, ${a}, 'member'), (${directId}, ${b}, 'member')`.execute(db)

      t.same(await migrateToLatest(db), ['0006_roles_blocks', '0007_presence', '0008_send_path_storage', '0009_send_generic_plan'])
      const owners = await sql<{ room_id: string; user_id: string }>`select room_id, user_id from room_participants where role = 'owner'`.execute(db)
      const ownerOf = new Map(owners.rows.map((row) => [row.room_id, row.user_id]))
      t.equal(ownerOf.get(kept), b, 'a room with an owner keeps it')
      t.equal(ownerOf.get(creatorIn), a, 'the creator, though not the longest-standing')
      t.equal(ownerOf.get(creatorGone), b, 'the longest-standing participant')
      t.notOk(ownerOf.has(directId), 'a direct room has no owner')
      t.equal(owners.rows.length, 3)
      await t.rejects(sql`update room_participants set role = 'owner' where room_id = ${kept} and user_id = ${a}`.execute(db), /room_participants_one_owner_idx|duplicate|unique/, 'one owner a room')
      await t.rejects(sql`insert into user_blocks (blocker_id, blocked_id) values (${a}, ${a})`.execute(db), /user_blocks_not_self|check/)
    })
  }
})

t.test('0008: every event is written with its outbox row, in its statement; unpublished events move there, and down moves them back', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      t.equal((await migratorFor(db).migrateTo('0007_presence')).error, undefined)
      const users = await sql<{ id: string }>`insert into users (display_name, display_name_key, password_hash) values ('a', 'a', 'x') returning id`.execute(db)
      const userId = users.rows[0]!.id
      const rooms = await sql<{ id: string }>`insert into rooms (name, created_by) values ('r', ${userId}) returning id`.execute(db)
      const roomId = rooms.rows[0]!.id
      await sql`
        insert into room_events (room_id, seq, type, payload, published_at) values
          (${roomId}, 1, 'message.created', '{}', now()), (${roomId}, 2, 'message.created', '{}', null)`.execute(db)

      t.same(await migrateToLatest(db), ['0008_send_path_storage', '0009_send_generic_plan'])
      const outbox = async (): Promise<Array<{ seq: number; type: string }>> =>
        (await sql<{ seq: string; type: string }>`select seq, type from room_events_outbox order by seq`.execute(db)).rows.map((row) => ({ seq: Number(row.seq), type: row.type }))
      t.same(await outbox(), [{ seq: 2, type: 'message.created' }], 'the unpublished event moved to the outbox')
      // Several events in one statement (a batch of sends), and one alone (appendRoomEvent).
      await sql`insert into room_events (room_id, seq, type, payload) values (${roomId}, 3, 'message.created', '{}'), (${roomId}, 4, 'reaction.updated', '{}')`.execute(db)
      await sql`insert into room_events (room_id, seq, type, payload) values (${roomId}, 5, 'room.updated', '{}')`.execute(db)
      t.same(await outbox(), [2, 3, 4, 5].map((seq) => ({ seq, type: seq === 4 ? 'reaction.updated' : seq === 5 ? 'room.updated' : 'message.created' })), 'each written event is in the outbox')
      await t.rejects(
        db.transaction().execute(async (trx) => {
          await sql`insert into room_events (room_id, seq, type, payload) values (${roomId}, 6, 'message.created', '{}')`.execute(trx)
          throw new Error('rolled back')
        }),
        /rolled back/
      )
      t.same((await outbox()).map((row) => row.seq), [2, 3, 4, 5], 'a rolled-back event leaves no outbox row')
      const other = (await sql<{ id: string }>`insert into rooms (name, created_by) values ('gone', ${userId}) returning id`.execute(db)).rows[0]!.id
      await sql`insert into room_events (room_id, seq, type, payload) values (${other}, 1, 'message.created', '{}')`.execute(db)
      await sql`delete from rooms where id = ${other}`.execute(db)
      t.same((await outbox()).map((row) => row.seq), [2, 3, 4, 5], 'a deleted room takes its outbox rows along: none waits forever')

      t.equal((await migratorFor(db).migrateTo('0007_presence')).error, undefined)
      const marks = await sql<{ seq: string; published: boolean }>`select seq, published_at is not null as published from room_events order by seq`.execute(db)
      t.same(marks.rows.map((row) => [Number(row.seq), row.published]), [[1, true], [2, false], [3, false], [4, false], [5, false]], 'down: what was in the outbox is unpublished again')
    })
  }
})
