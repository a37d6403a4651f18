// Frozen in time, like every migration: Kysely<any>, nothing imported from
// the application.
//
// Direct rooms: `rooms.kind` tells a group from a direct room, and a direct
// room names its two users as an ordered pair (the smaller uuid first). The
// unique pair is what makes "the one room between two users" true when both
// ask at the same moment: the second insert waits for the first and then
// finds it, instead of both checking, finding nothing and creating two.
//
// Search: a stored tsvector of each message's text under the 'simple'
// configuration (no language's stemming or stop words: the rooms' languages
// are unknown and mixed), kept by PostgreSQL itself on every insert and
// edit, so chat_send_messages (0002) and the edit path need no change; a
// deleted message's text is wiped, and its vector with it. GIN serves @@.
import { sql, type Kysely } from 'kysely'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table rooms
    add column kind text not null default 'group',
    add column direct_user_low uuid references users (id) on delete restrict,
    add column direct_user_high uuid references users (id) on delete restrict,
    add constraint rooms_kind_check check (
      (kind = 'group' and direct_user_low is null and direct_user_high is null)
      or (kind = 'direct' and direct_user_low is not null and direct_user_high is not null and direct_user_low < direct_user_high)),
    add constraint rooms_direct_pair_unique unique (direct_user_low, direct_user_high)`.execute(db)
  // The unique pair's index serves "the direct room of (low, high)" and, by its
  // first column, the low user's direct rooms; this serves the high user's.
  await sql`create index rooms_direct_user_high_idx on rooms (direct_user_high) where direct_user_high is not null`.execute(db)

  await sql`alter table messages
    add column search_vector tsvector generated always as (to_tsvector('simple'::regconfig, text)) stored`.execute(db)
  await sql`create index messages_search_vector_idx on messages using gin (search_vector)`.execute(db)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists messages_search_vector_idx`.execute(db)
  await sql`alter table messages drop column if exists search_vector`.execute(db)
  await sql`drop index if exists rooms_direct_user_high_idx`.execute(db)
  await sql`alter table rooms
    drop constraint if exists rooms_direct_pair_unique,
    drop constraint if exists rooms_kind_check,
    drop column if exists direct_user_high,
    drop column if exists direct_user_low,
    drop column if exists kind`.execute(db)
}
