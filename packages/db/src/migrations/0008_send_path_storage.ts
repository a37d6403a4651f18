// Frozen in time, like every migration: Kysely<any>, nothing imported from
// the application.
//
// The send path's writes, made cheap to keep (issue 14). Measured in
// bench:send (2,000 sends/s, 20 s), two designs made every later send dearer
// than the one before:
//
// - Rooms. Every send batch locks and updates its rooms' rows (last_seq,
//   last_activity_at). An index on last_activity_at made each update
//   non-HOT: new entries in every index of rooms, and dead row versions that
//   every later lookup of the room walked until a vacuum came (12,000 dead
//   versions of 100 rooms; the batch's lock statement went from a few to
//   300 µs per send). A user's rooms are listed from
//   room_participants_user_id_idx and sorted, which needs no index on the
//   activity time: without it the updates are HOT, and the space that
//   fillfactor leaves on each page keeps them on their page.
//
// - The outbox. `room_events.published_at`, set after publishing, rewrote
//   each whole event row (its payload too) as a non-HOT update, and left
//   every row in the partial index of unpublished events until a vacuum: the
//   relays' passes read all of them, a cost that grew with every send. The
//   outbox is now a table of its own, `room_events_outbox`: a small row per
//   event, written by a statement trigger in the same statement (so in the
//   same transaction) as the event, by every writer alike, and deleted once
//   the event is published. It holds only what is unpublished (and what a
//   vacuum has not yet reclaimed), however large room_events grows.
//
// - The send function's plan. PL/pgSQL keeps a statement's plan for the
//   connection's life, and the plan chosen while messages was small hashed
//   the whole table (a sequential scan) for the reply and thread-root
//   lookups of every batch: a cost that grew with every message stored (the
//   benchmark's third 10 s round cost PostgreSQL 560 µs per send against 315
//   in the first). A batch is a few dozen rows, each of which wants a
//   handful of index lookups, whatever the statistics said when the
//   connection first planned it: the function plans without sequential
//   scans, hash joins or merge joins.
import { sql, type Kysely } from 'kysely'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index rooms_last_activity_at_idx`.execute(db)
  await sql`alter table rooms set (fillfactor = 50)`.execute(db)
  await sql`alter function chat_send_messages(jsonb) set enable_seqscan = off set enable_hashjoin = off set enable_mergejoin = off`.execute(db)

  // No foreign key to room_events: its check would lock each event row as it
  // is written. The relay reads the outbox joined to room_events, and the
  // retention keeps events that are still in the outbox. The room's key, as
  // on messages and room_events: a room deleted by hand takes its outbox
  // rows with it (none would be left to wait forever), and the check finds
  // the room already locked by the writing transaction.
  await sql`
    create table room_events_outbox (
      room_id uuid not null references rooms (id) on delete cascade,
      seq bigint not null,
      type text not null,
      created_at timestamptz not null,
      constraint room_events_outbox_pkey primary key (room_id, seq)
    )`.execute(db)
  await sql`create index room_events_outbox_created_at_idx on room_events_outbox (created_at)`.execute(db)
  await sql`
    create function room_events_to_outbox() returns trigger
    language plpgsql
    as $fn$
    begin
      insert into room_events_outbox (room_id, seq, type, created_at)
      select room_id, seq, type, created_at from inserted;
      return null;
    end
    $fn$`.execute(db)
  // One insert per statement, whatever the number of events: a batch of sends is one statement.
  await sql`
    create trigger room_events_outbox_insert after insert on room_events
    referencing new table as inserted
    for each statement execute function room_events_to_outbox()`.execute(db)
  await sql`
    insert into room_events_outbox (room_id, seq, type, created_at)
    select room_id, seq, type, created_at from room_events where published_at is null`.execute(db)
  await sql`drop index room_events_unpublished_idx`.execute(db)
  await sql`alter table room_events drop column published_at`.execute(db)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table room_events add column published_at timestamptz`.execute(db)
  // Published, unless still in the outbox.
  await sql`
    update room_events e set published_at = e.created_at
    where not exists (select 1 from room_events_outbox o where o.room_id = e.room_id and o.seq = e.seq)`.execute(db)
  await sql`create index room_events_unpublished_idx on room_events (created_at) where published_at is null`.execute(db)
  await sql`drop trigger room_events_outbox_insert on room_events`.execute(db)
  await sql`drop function room_events_to_outbox()`.execute(db)
  await sql`drop table room_events_outbox`.execute(db)
  await sql`alter function chat_send_messages(jsonb) reset all`.execute(db)
  await sql`alter table rooms reset (fillfactor)`.execute(db)
  await sql`create index rooms_last_activity_at_idx on rooms (last_activity_at desc, id desc)`.execute(db)
}
