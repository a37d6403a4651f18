// Frozen in time, like every migration: Kysely<any>, nothing imported from
// the application. A later change to the function is a new migration with
// `create or replace`.
//
// chat_send_messages(batch jsonb): stores a batch of messages in one round
// trip and one commit (the messages service's group commit). Per item it
// answers, in api.md's order of checks, whether the room exists and the
// sender participates; a repeat of a client_msg_id (stored before, or earlier
// in the same batch) takes no seq; every other item takes its room's next
// seq and writes its message and its message.created event, whose payload
// (the frame sockets receive) is built here so that the stored and the
// published bytes are the same.
import { sql, type Kysely } from 'kysely'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen: they never see the application's types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function chat_send_messages(batch jsonb)
    returns table (ord int, status text, seq bigint, first_ord int, payload text)
    language plpgsql
    as $fn$
    begin
      -- The rooms' row locks first, in id order: concurrent batches (other
      -- processes, other replicas) wait for each other instead of
      -- deadlocking, and every statement below takes a fresh snapshot that
      -- sees what the batches before this one committed.
      perform 1 from rooms
      where id in (select distinct (item->>'room_id')::uuid from jsonb_array_elements(batch) as item)
      order by id
      for update;

      return query
      with items as (
        select * from jsonb_to_recordset(batch) as x(
          ord int, id uuid, room_id uuid, sender_id uuid, text text, client_msg_id text, created_at timestamptz, check_only boolean)
      ), checked as (
        select i.*, r.last_seq, r.id is not null as room_exists, p.user_id is not null as member,
          u.display_name as sender_name, u.created_at as sender_created_at,
          (select m.id from messages m
            where m.room_id = i.room_id and m.sender_id = i.sender_id and m.client_msg_id = i.client_msg_id) as prior_id,
          -- Among the items that may be stored: a repeat refers to the first of them.
          min(i.ord) filter (where not coalesce(i.check_only, false)) over (partition by i.room_id, i.sender_id, i.client_msg_id) as first_of_id
        from items i
        left join rooms r on r.id = i.room_id
        left join room_participants p on p.room_id = i.room_id and p.user_id = i.sender_id
        left join users u on u.id = p.user_id
      ), accepted as (
        select c.*, c.last_seq + row_number() over (partition by c.room_id order by c.ord) as new_seq
        from checked c
        where c.room_exists and c.member and not coalesce(c.check_only, false) and c.prior_id is null
          and (c.client_msg_id is null or c.ord = c.first_of_id)
      ), framed as (
        select a.*, jsonb_build_object(
          'type', 'message.created', 'room_id', a.room_id, 'seq', a.new_seq,
          'message', jsonb_build_object(
            'id', a.id, 'room_id', a.room_id, 'seq', a.new_seq,
            'sender', jsonb_build_object('id', a.sender_id, 'display_name', a.sender_name,
              'created_at', to_char(a.sender_created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
            'text', a.text, 'client_msg_id', a.client_msg_id,
            'created_at', to_char(a.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'edited_at', null, 'deleted', false, 'reactions', '{}'::jsonb, 'my_reaction', null)) as frame
        from accepted a
      ), inserted_messages as (
        insert into messages (id, room_id, seq, sender_id, text, client_msg_id, created_at)
        select f.id, f.room_id, f.new_seq, f.sender_id, f.text, f.client_msg_id, f.created_at from framed f
        returning messages.id
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
          when c.client_msg_id is not null and c.ord <> c.first_of_id then 'repeat_in_batch'
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
}
