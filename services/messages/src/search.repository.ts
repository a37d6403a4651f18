import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely'
import type { RoomKind, SearchHighlight, SearchHit } from '@chat/contracts'
import type { Database, MessagesTable } from '@chat/db'
import { mentionsOf, messageWithSenderColumns, reactionSummaries, toMessage, type MessageWithSenderRow } from './messages.repository.js'

// ts_headline marks each match with these two private-use characters (taken
// out of the text first), which the API turns into offsets: a client shows
// the marks without parsing markup out of text that may hold markup itself.
// The parser takes `<...>` for an HTML tag, which ts_headline drops; a third
// one stands in for `<` on the way in and is turned back on the way out, so
// the piece shows the text as it was sent.
const MARK_START = '\uE000'
const MARK_END = '\uE001'
const LESS_THAN = '\uE002'
const HEADLINE_OPTIONS = `StartSel=${MARK_START}, StopSel=${MARK_END}, MinWords=10, MaxWords=30`

/**
 * The tsquery of a search text under the 'simple' configuration (the one of
 * `messages.search_vector`): every word must occur, the last one as a prefix,
 * so that a query matches while it is being typed. Undefined when the text
 * holds no word at all (only punctuation, say).
 */
export async function toSearchQuery(db: Kysely<Database>, text: string): Promise<string | undefined> {
  // plainto_tsquery parses the text as the column's words were parsed; its
  // text form ends with the last lexeme's closing quote, where `:*` goes.
  const { rows } = await sql<{ query: string; words: number }>`
    select q::text as query, numnode(q) as words from plainto_tsquery('simple', ${text}) as q`.execute(db)
  const row = rows[0]
  return row && row.words > 0 ? `${row.query}:*` : undefined
}

export interface HitsInput {
  viewerId: string
  query: string
  roomId?: string
  /** Only hits older than this message (the last hit of the previous page). */
  beforeId?: string
  limit: number
}

interface HitRow extends MessageWithSenderRow {
  room_kind: RoomKind
  group_name: string
  room_name: string
  headline: string
}

/**
 * A room with at most this many messages is searched by walking its
 * messages newest first; a larger one through the GIN index on
 * `search_vector`. Asking the index room by room costs a read of each word's
 * whole posting list (every room's matches) per room, far more than walking
 * a thousand messages; in a room of a million, walking to a rare word's
 * first match would read them all.
 */
const WALK_ROOMS_UP_TO = 5_000

/**
 * How many matches each room contributes before the page is cut. A room's
 * matches are taken newest first by seq (its index), the page is ordered by
 * id (UUIDv7, made when the send arrived), and the two orders can differ
 * between sends that arrived within the same moment on two replicas; the
 * slack keeps such a swap from hiding a hit at a page boundary.
 */
const ROOM_SLACK = 16

/**
 * The newest messages matching `query` in the rooms `viewerId` belongs to
 * now, deleted ones left out, newest first (by id: UUIDv7), each with its
 * room and a highlighted piece of its text; and whether more lie beyond.
 *
 * Room by room (a lateral join over the viewer's memberships), newest first
 * by the room's seq index, stopping after a page of matches: a word in half
 * of all messages costs well under a millisecond. Up to
 * {@link WALK_ROOMS_UP_TO} messages a room is walked with `ts_match_vq`
 * (the function behind `@@`, which no index serves, so the planner cannot
 * pick the index); a larger room uses `@@`, and the planner the GIN index
 * when the words are rare there. The room's size gates each branch once per
 * room. `npm run bench:search` measures it over a million messages.
 */
export async function findHits(db: Kysely<Database>, input: HitsInput): Promise<{ hits: SearchHit[]; more: boolean }> {
  const perRoom = input.limit + 1 + ROOM_SLACK
  const before = input.beforeId === undefined ? sql`` : sql`and m.id < ${input.beforeId}::uuid`
  const branch = (match: RawBuilder<boolean>, size: RawBuilder<boolean>) => sql`(
    select m.* from messages m
    where m.room_id = me.room_id and ${size} and ${match} and m.deleted_at is null ${before}
    order by m.seq desc limit ${perRoom})`
  const roomMessages = sql<Selectable<MessagesTable>>`(
    ${branch(sql`ts_match_vq(m.search_vector, ${input.query}::tsquery)`, sql`rooms.last_seq <= ${WALK_ROOMS_UP_TO}`)}
    union all
    ${branch(sql`m.search_vector @@ ${input.query}::tsquery`, sql`rooms.last_seq > ${WALK_ROOMS_UP_TO}`)})`
  const page = db
    .selectFrom('room_participants as me')
    .innerJoin('rooms', 'rooms.id', 'me.room_id')
    .innerJoinLateral(roomMessages.as('messages'), (join) => join.onTrue())
    .innerJoin('users', 'users.id', 'messages.sender_id')
    .select([...messageWithSenderColumns, 'rooms.kind as room_kind', 'rooms.name as group_name'])
    .where('me.user_id', '=', input.viewerId)
    .$if(input.roomId !== undefined, (query) => query.where('me.room_id', '=', input.roomId!))
    .orderBy('messages.id', 'desc')
    .limit(input.limit + 1)
  // The headline and a direct room's name are made for the page's rows only, not for every match.
  const rows: HitRow[] = await db
    .selectFrom(page.as('hit'))
    .selectAll('hit')
    .select([
      // A direct room is called by the other participant's name, as the rooms service names it.
      sql<string>`case when hit.room_kind = 'direct' then coalesce((
        select u.display_name from room_participants p join users u on u.id = p.user_id
        where p.room_id = hit.room_id and p.user_id <> ${input.viewerId}::uuid limit 1), '') else hit.group_name end`.as('room_name'),
      sql<string>`ts_headline('simple', translate(hit.text, ${'<' + MARK_START + MARK_END + LESS_THAN}, ${LESS_THAN}), ${input.query}::tsquery, ${HEADLINE_OPTIONS})`.as(
        'headline'
      )
    ])
    .orderBy('hit.id', 'desc')
    .execute()
  const more = rows.length > input.limit
  if (more) rows.pop()
  const ids = rows.map((row) => row.id)
  const [summaries, mentions] = await Promise.all([reactionSummaries(db, ids, input.viewerId), mentionsOf(db, ids)])
  const hits = rows.map((row) => ({
    message: toMessage(row, summaries.get(row.id), mentions.get(row.id)),
    room: { id: row.room_id, kind: row.room_kind, name: row.room_name },
    highlight: toHighlight(row.headline)
  }))
  return { hits, more }
}

/** ts_headline's output with its marks turned into `[start, end)` offsets (UTF-16, as JavaScript indexes strings). */
export function toHighlight(headline: string): SearchHighlight {
  let text = ''
  const marks: SearchHighlight['marks'] = []
  let start: number | undefined
  for (const char of headline) {
    if (char === MARK_START) start = text.length
    else if (char === MARK_END) {
      if (start !== undefined && text.length > start) marks.push({ start, end: text.length })
      start = undefined
    } else text += char === LESS_THAN ? '<' : char
  }
  return { text, marks }
}
