// The search benchmark's data: users, rooms of 20 and messages whose words
// follow a Zipf-like law (a word's frequency falls as 1/rank), so that the
// queries meet words in half of all messages as well as words in a handful.
// Made by SQL in the database itself: a million rows in under a minute.
import { sql, type Kysely } from 'kysely'
import type { Database } from '@chat/db'

export interface DataShape {
  users: number
  rooms: number
  /** Participants per room; each user is in about rooms × roomSize / users rooms. */
  roomSize: number
  messages: number
}

/** Pseudo-words of three syllables: rank r is syllables (r / 576, r / 24, r) mod 24. */
export const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vi', 'so', 'pe', 'da', 'gu', 'ze', 'bo', 'fi', 'ha', 'ju', 'ly', 'mo', 'ni', 'qu', 'ra', 'se', 'to', 'wu']
export const VOCABULARY = SYLLABLES.length ** 3

export function wordOfRank(rank: number): string {
  const n = SYLLABLES.length
  return `${SYLLABLES[Math.floor(rank / (n * n)) % n]}${SYLLABLES[Math.floor(rank / n) % n]}${SYLLABLES[rank % n]}`
}

/** Whether the database holds exactly this shape already (a rerun skips the load). */
export async function hasShape(db: Kysely<Database>, shape: DataShape): Promise<boolean> {
  const { rows } = await sql<{ users: number; rooms: number; messages: number }>`
    select (select count(*)::int from users) as users, (select count(*)::int from rooms) as rooms,
           (select count(*)::int from messages) as messages`.execute(db)
  const row = rows[0]
  return row?.users === shape.users && row.rooms === shape.rooms && row.messages === shape.messages
}

/** Replaces everything with data of this shape. */
export async function load(db: Kysely<Database>, shape: DataShape): Promise<void> {
  const syllables = sql.raw(`array[${SYLLABLES.map((syllable) => `'${syllable}'`).join(',')}]`)
  const n = SYLLABLES.length
  await db.transaction().execute(async (trx) => {
    // The service pool's statement timeout is for requests; the load takes a minute.
    await sql`set local statement_timeout = 0`.execute(trx)
    await sql`truncate users, rooms, room_participants, messages cascade`.execute(trx)
    await sql`insert into users (display_name, display_name_key, password_hash)
      select 'user' || i, 'user' || i, 'not-a-hash' from generate_series(1, ${shape.users}::int) i`.execute(trx)
    await sql`create temp table bench_users on commit drop as select id, substr(display_name, 5)::int as n from users`.execute(trx)
    await sql`create index on bench_users (n)`.execute(trx)
    await sql`insert into rooms (name, created_by)
      select 'room' || r, (select id from bench_users where n = (r % ${shape.users}::int) + 1) from generate_series(1, ${shape.rooms}::int) r`.execute(trx)
    await sql`create temp table bench_rooms on commit drop as select id, substr(name, 5)::int as n from rooms`.execute(trx)
    // Room r holds users (37r + 101k) mod users, k < roomSize: distinct while 101 × roomSize < users.
    await sql`insert into room_participants (room_id, user_id, role)
      select r.id, u.id, case when k = 0 then 'owner' else 'member' end
      from bench_rooms r cross join generate_series(0, ${shape.roomSize - 1}::int) k
      join bench_users u on u.n = ((r.n * 37 + k * 101) % ${shape.users}::int) + 1`.execute(trx)
    await sql`analyze bench_users`.execute(trx)
    await sql`analyze bench_rooms`.execute(trx)
    // Message g goes to room g mod rooms, one a minute up to now; its id is a
    // UUIDv7 of that minute (ids order the hits). 3 to 14 words, each of rank
    // floor(V^u) - 1 for a uniform u: log-uniform ranks, a Zipf-like law.
    await sql`insert into messages (id, room_id, seq, sender_id, text, created_at)
      select
        (lpad(to_hex((extract(epoch from now()) * 1000)::bigint - ${shape.messages}::bigint * 60000 + x.g::bigint * 60000), 12, '0')
          || '7' || substr(md5(x.g::text), 1, 3) || '8' || substr(md5(x.g::text), 4, 15))::uuid,
        x.room_id, x.seq, u.id,
        (select string_agg(s[1 + (t.r / ${n * n}::int) % ${n}::int] || s[1 + (t.r / ${n}::int) % ${n}::int] || s[1 + t.r % ${n}::int], ' ')
           from (select floor(power(${VOCABULARY}::float8, random()))::int - 1 + 0 * w as r from generate_series(1, 3 + (x.g % 12)) w) t,
                (select ${syllables} as s) c),
        now() - make_interval(secs => (${shape.messages}::int - x.g) * 60)
      from (select g, r.id as room_id, r.n as rn, (g - 1) / ${shape.rooms}::int + 1 as seq
            from generate_series(1, ${shape.messages}::int) g join bench_rooms r on r.n = ((g - 1) % ${shape.rooms}::int) + 1) x
      join bench_users u on u.n = ((x.rn * 37 + (x.g % ${shape.roomSize}::int) * 101) % ${shape.users}::int) + 1`.execute(trx)
    await sql`update rooms set last_seq = coalesce((select max(seq) from messages where room_id = rooms.id), 0)`.execute(trx)
    await sql`analyze`.execute(trx)
  })
}
