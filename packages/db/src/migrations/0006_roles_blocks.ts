// Frozen in time, like every migration: Kysely<any>, nothing imported from
// the application.
//
// Room roles and consent (issue 18):
// - room_participants.role gains `admin`; a group room has at most one owner
//   (a partial unique index), so a hand-over can never leave two. Group rooms
//   whose owner left before roles existed get one: the creator when still a
//   participant, else the longest-standing participant. Direct rooms keep
//   two members: neither has more say.
// - rooms.members_can_add: false lets only the owner and admins add people.
// - users.rooms_invite: `nobody` keeps others from putting the user into a
//   group room.
// - user_blocks: who blocked whom. A blocked user cannot add the blocker to a
//   room, open a direct room with them, or mention them.
// - chat_mentioned_users, replaced: 0003's with the blocks applied, the one
//   place that decides mentions for sends and edits alike.
import { sql, type Kysely } from 'kysely'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table room_participants
      drop constraint room_participants_role_check,
      add constraint room_participants_role_check check (role in ('owner', 'admin', 'member'))`.execute(db)
  await sql`
    update room_participants p set role = 'owner'
    from (
      select distinct on (p2.room_id) p2.room_id, p2.user_id
      from room_participants p2
      join rooms r on r.id = p2.room_id
      where r.kind = 'group'
        and not exists (select 1 from room_participants o where o.room_id = p2.room_id and o.role = 'owner')
      order by p2.room_id, (p2.user_id = r.created_by) desc, p2.joined_at, p2.user_id
    ) heir
    where p.room_id = heir.room_id and p.user_id = heir.user_id`.execute(db)
  await sql`create unique index room_participants_one_owner_idx on room_participants (room_id) where role = 'owner'`.execute(db)

  await sql`alter table rooms add column members_can_add boolean not null default true`.execute(db)
  await sql`
    alter table users
      add column rooms_invite text not null default 'anyone',
      add constraint users_rooms_invite_check check (rooms_invite in ('anyone', 'nobody'))`.execute(db)

  // Both users go with either account: a block means nothing without them.
  await sql`
    create table user_blocks (
      blocker_id uuid not null references users (id) on delete cascade,
      blocked_id uuid not null references users (id) on delete cascade,
      created_at timestamptz not null default now(),
      constraint user_blocks_pkey primary key (blocker_id, blocked_id),
      constraint user_blocks_not_self check (blocker_id <> blocked_id)
    )`.execute(db)
  // The key serves "whom did I block"; this serves "who blocked the sender"
  // (mentions, add_user, room creation, direct rooms).
  await sql`create index user_blocks_blocked_id_idx on user_blocks (blocked_id, blocker_id)`.execute(db)

  await createMentionedUsers(db, true)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export async function down(db: Kysely<any>): Promise<void> {
  await createMentionedUsers(db, false)
  await sql`drop table if exists user_blocks`.execute(db)
  await sql`alter table users drop constraint if exists users_rooms_invite_check, drop column if exists rooms_invite`.execute(db)
  await sql`alter table rooms drop column if exists members_can_add`.execute(db)
  await sql`drop index if exists room_participants_one_owner_idx`.execute(db)
  await sql`update room_participants set role = 'member' where role = 'admin'`.execute(db)
  await sql`
    alter table room_participants
      drop constraint room_participants_role_check,
      add constraint room_participants_role_check check (role in ('owner', 'member'))`.execute(db)
}

/**
 * 0003's chat_mentioned_users, with (`withBlocks`) or without the rule that a
 * user who blocked the sender is never mentioned by them: the mention is
 * dropped, the text stays as written.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
async function createMentionedUsers(db: Kysely<any>, withBlocks: boolean): Promise<void> {
  const blocks = withBlocks
    ? sql`and not exists (select 1 from user_blocks b where b.blocker_id = m.user_id and b.blocked_id = p_sender_id)`
    : sql``
  await sql`
    create or replace function chat_mentioned_users(p_room_id uuid, p_sender_id uuid, p_tokens jsonb, p_ids jsonb)
    returns table (user_id uuid)
    language sql stable
    as $fn$
      select m.user_id from (
        (select distinct on (t.pos) u.id as user_id
          from jsonb_array_elements(coalesce(p_tokens, '[]'::jsonb)) with ordinality as t(candidates, pos)
          cross join lateral jsonb_array_elements_text(t.candidates) with ordinality as c(key, rank)
          join users u on u.display_name_key = c.key
          join room_participants p on p.room_id = p_room_id and p.user_id = u.id
          order by t.pos, c.rank)
        union
        (select p.user_id
          from jsonb_array_elements_text(coalesce(p_ids, '[]'::jsonb)) as x(id)
          join room_participants p on p.room_id = p_room_id and p.user_id = x.id::uuid)
      ) m
      where m.user_id <> p_sender_id
      ${blocks}
    $fn$`.execute(db)
}
