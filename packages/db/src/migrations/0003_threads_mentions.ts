// Frozen in time, like every migration: Kysely<any>, nothing imported from
// the application.
//
// Replies and threads, and mentions (issue 17):
// - messages.reply_to names the thread's root (always the root: a reply to a
//   reply joins the root's thread); the root keeps reply_count and
//   last_reply_at, which chat_send_messages raises in the reply's statement.
// - message_mentions: who a message mentions, with the message's room and seq
//   copied so that "mentions of me past my read position" is one index range
//   per room.
// - chat_mentioned_users: which participants a message's `@` tokens and the
//   client's ids name, the one place that decides it (sends and edits).
// - chat_send_messages, replaced: 0002's batch with reply_to and mentions in
//   the same statement, and the root's new counts in the reply's event.
import { sql, type Kysely } from 'kysely'
// 0002 is frozen too: its up() is the function this one's down() restores.
import { up as createSendBatch0002 } from './0002_send_batch.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function up(db: Kysely<any>): Promise<void> {
  // Replies go with their room (and so with their root): cascade, as 0001 does for what lives inside a room.
  await sql`
    alter table messages
      add column reply_to uuid references messages (id) on delete cascade,
      add column reply_count int4 not null default 0,
      add column last_reply_at timestamptz,
      add constraint messages_reply_count_check check (reply_count >= 0)`.execute(db)
  // A thread's replies in seq order (its pages); only replies are in it.
  await sql`create index messages_reply_to_seq_idx on messages (reply_to, seq) where reply_to is not null`.execute(db)

  await sql`
    create table message_mentions (
      message_id uuid not null references messages (id) on delete cascade,
      user_id uuid not null references users (id) on delete restrict,
      room_id uuid not null references rooms (id) on delete cascade,
      seq int8 not null,
      constraint message_mentions_pkey primary key (message_id, user_id)
    )`.execute(db)
  // unread_mentions: a user's mentions in a room past a seq.
  await sql`create index message_mentions_user_room_seq_idx on message_mentions (user_id, room_id, seq)`.execute(db)

  // tokens: one array per `@` of the text, the display-name keys it could
  // name, longest first (the application reads them off the text); the first
  // that names a participant wins (longest match). ids: the client's own
  // list, kept where they are participants. The sender never mentions
  // themselves.
  await sql`
    create function chat_mentioned_users(p_room_id uuid, p_sender_id uuid, p_tokens jsonb, p_ids jsonb)
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
    $fn$`.execute(db)

  await sql`
    create or replace function chat_send_messages(batch jsonb)
    returns table (ord int, status text, seq bigint, first_ord int, payload text)
    language plpgsql
    as $fn$
    begin
      -- The rooms' row locks first, in id order (see 0002); they also keep a
      -- thread root's counts and the participants still while this runs.
      perform 1 from rooms
      where id in (select distinct (item->>'room_id')::uuid from jsonb_array_elements(batch) as item)
      order by id
      for update;

      return query
      with items as (
        select * from jsonb_to_recordset(batch) as x(
          ord int, id uuid, room_id uuid, sender_id uuid, text text, client_msg_id text, created_at timestamptz, check_only boolean,
          reply_to uuid, mention_tokens jsonb, mention_ids jsonb)
      ), checked as (
        select i.*, r.last_seq, r.id is not null as room_exists, p.user_id is not null as member,
          u.display_name as sender_name, u.created_at as sender_created_at,
          -- The thread a reply joins: its target's root, or the target itself.
          coalesce(t.reply_to, t.id) as root_id,
          i.reply_to is null or t.id is not null as reply_ok,
          (select m.id from messages m
            where m.room_id = i.room_id and m.sender_id = i.sender_id and m.client_msg_id = i.client_msg_id) as prior_id,
          -- Among the items that may be stored: a repeat refers to the first of them.
          min(i.ord) filter (where not coalesce(i.check_only, false) and (i.reply_to is null or t.id is not null))
            over (partition by i.room_id, i.sender_id, i.client_msg_id) as first_of_id
        from items i
        left join rooms r on r.id = i.room_id
        left join room_participants p on p.room_id = i.room_id and p.user_id = i.sender_id
        left join users u on u.id = p.user_id
        left join messages t on t.id = i.reply_to and t.room_id = i.room_id
      ), accepted as (
        select c.*, c.last_seq + row_number() over (partition by c.room_id order by c.ord) as new_seq
        from checked c
        where c.room_exists and c.member and not coalesce(c.check_only, false) and c.prior_id is null and c.reply_ok
          and (c.client_msg_id is null or c.ord = c.first_of_id)
      ), threaded as (
        -- Each reply's view of its root after it: the counts grow in batch order.
        select a.ord, a.root_id,
          root.reply_count + row_number() over (partition by a.root_id order by a.ord) as reply_count,
          greatest(root.last_reply_at, max(a.created_at) over (partition by a.root_id order by a.ord)) as last_reply_at
        from accepted a
        join messages root on root.id = a.root_id
      ), mentioned as (
        select a.ord, a.room_id, a.new_seq, mu.user_id
        from accepted a
        cross join lateral chat_mentioned_users(a.room_id, a.sender_id, a.mention_tokens, a.mention_ids) as mu
        -- Most messages name nobody: they skip the lookup.
        where jsonb_array_length(coalesce(a.mention_tokens, '[]'::jsonb)) > 0 or jsonb_array_length(coalesce(a.mention_ids, '[]'::jsonb)) > 0
      ), mention_lists as (
        select mn.ord, jsonb_agg(jsonb_build_object('id', u.id, 'display_name', u.display_name,
            'created_at', to_char(u.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
            order by u.display_name_key) as users
        from mentioned mn
        join users u on u.id = mn.user_id
        group by mn.ord
      ), framed as (
        select a.*, jsonb_build_object(
          'type', 'message.created', 'room_id', a.room_id, 'seq', a.new_seq,
          'message', jsonb_build_object(
            'id', a.id, 'room_id', a.room_id, 'seq', a.new_seq,
            'sender', jsonb_build_object('id', a.sender_id, 'display_name', a.sender_name,
              'created_at', to_char(a.sender_created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
            'text', a.text, 'client_msg_id', a.client_msg_id,
            'created_at', to_char(a.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'edited_at', null, 'deleted', false, 'reactions', '{}'::jsonb, 'my_reaction', null,
            'reply_to', a.root_id, 'reply_count', 0, 'last_reply_at', null,
            'mentions', coalesce(ml.users, '[]'::jsonb)))
          || case when th.ord is null then '{}'::jsonb else jsonb_build_object('thread_root', jsonb_build_object(
            'id', th.root_id, 'reply_count', th.reply_count,
            'last_reply_at', to_char(th.last_reply_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) end as frame
        from accepted a
        left join threaded th on th.ord = a.ord
        left join mention_lists ml on ml.ord = a.ord
      ), inserted_messages as (
        insert into messages (id, room_id, seq, sender_id, text, client_msg_id, created_at, reply_to)
        select f.id, f.room_id, f.new_seq, f.sender_id, f.text, f.client_msg_id, f.created_at, f.root_id from framed f
        returning messages.id
      ), inserted_mentions as (
        insert into message_mentions (message_id, user_id, room_id, seq)
        select a.id, mn.user_id, mn.room_id, mn.new_seq from mentioned mn join accepted a on a.ord = mn.ord
        returning message_mentions.message_id
      ), replied as (
        update messages m set reply_count = m.reply_count + n.count, last_reply_at = greatest(m.last_reply_at, n.latest)
        from (select a.root_id, count(*) as count, max(a.created_at) as latest from accepted a where a.root_id is not null group by a.root_id) n
        where m.id = n.root_id
        returning m.id
      ), inserted_events as (
        insert into room_events (room_id, seq, type, payload, created_at)
        select f.room_id, f.new_seq, 'message.created', f.frame, f.created_at from framed f
        returning room_events.room_id
      ), advanced as (
        update rooms r set last_seq = r.last_seq + n.count, last_activity_at = greatest(r.last_activity_at, n.latest)
        from (select f.room_id, count(*) as count, max(f.created_at) as latest from framed f group by f.room_id) n
        where r.id = n.room_id
        returning r.id
      )
      select c.ord,
        case
          when not c.room_exists then 'no_room'
          when not c.member then 'outsider'
          when coalesce(c.check_only, false) then 'checked'
          when c.prior_id is not null then 'repeat'
          when c.client_msg_id is not null and c.first_of_id is not null and c.ord <> c.first_of_id then 'repeat_in_batch'
          when not c.reply_ok then 'no_reply_to'
          else 'created'
        end,
        f.new_seq, c.first_of_id, f.frame::text
      from checked c
      left join framed f on f.ord = c.ord
      -- The modifying parts run to completion whether read or not (PostgreSQL's rule for WITH).
      order by c.ord;
    end
    $fn$`.execute(db)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists chat_send_messages(jsonb)`.execute(db)
  await createSendBatch0002(db)
  await sql`drop function if exists chat_mentioned_users(uuid, uuid, jsonb, jsonb)`.execute(db)
  await sql`drop table if exists message_mentions`.execute(db)
  await sql`drop index if exists messages_reply_to_seq_idx`.execute(db)
  await sql`
    alter table messages
      drop constraint if exists messages_reply_count_check,
      drop column if exists last_reply_at,
      drop column if exists reply_count,
      drop column if exists reply_to`.execute(db)
}
