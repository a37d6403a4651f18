import { sql, type Kysely, type Transaction } from 'kysely'
import { displayNameKey, toUser, type Participant, type Room, type User } from '@chat/contracts'
import type { Database } from '@chat/db'
import { avatarUrl } from './avatars.repository.js'

/**
 * Who is putting the named users somewhere, so that their consent applies:
 * a user who blocked `inviterId` is not found, nor (with `groupRoom`) one
 * whose `rooms_invite` is `nobody`. Users already in `roomId` are found
 * whatever they chose: nobody is being put in, and refusing them would tell
 * the inviter about a block.
 */
export interface Inviter {
  inviterId: string
  groupRoom: boolean
  roomId?: string
}

/**
 * Resolves display names in one query (case-insensitively, after NFC).
 * `notFound` lists the unknown names as the client spelled them, once each,
 * in request order; `users` the known ones, once each, in request order.
 * With an `inviter`, names the users did not consent to are unknown names
 * too, in the same query: the answer is the same as for a name nobody has.
 */
export async function resolveDisplayNames(
  db: Kysely<Database>,
  names: readonly string[],
  inviter?: Inviter
): Promise<{ users: User[]; notFound: string[] }> {
  const firstSpelling = new Map<string, string>()
  for (const name of names) {
    const key = displayNameKey(name)
    if (!firstSpelling.has(key)) firstSpelling.set(key, name)
  }
  if (firstSpelling.size === 0) return { users: [], notFound: [] }
  let query = db
    .selectFrom('users')
    .select(['id', 'display_name', 'display_name_key', 'created_at'])
    .where('display_name_key', 'in', [...firstSpelling.keys()])
  if (inviter) {
    const { inviterId, groupRoom, roomId } = inviter
    query = query.where((eb) => {
      const notBlocked = eb.not(
        eb.exists(eb.selectFrom('user_blocks').select(sql`1`.as('one')).whereRef('user_blocks.blocker_id', '=', 'users.id').where('user_blocks.blocked_id', '=', inviterId))
      )
      const consents = groupRoom ? eb.and([notBlocked, eb('users.rooms_invite', '=', 'anyone')]) : notBlocked
      const alreadyIn = roomId
        ? [eb.exists(eb.selectFrom('room_participants').select(sql`1`.as('one')).where('room_participants.room_id', '=', roomId).whereRef('room_participants.user_id', '=', 'users.id'))]
        : []
      return eb.or([eb('users.id', '=', inviterId), consents, ...alreadyIn])
    })
  }
  const rows = await query.execute()
  const byKey = new Map(rows.map((row) => [row.display_name_key, row]))
  const users: User[] = []
  const notFound: string[] = []
  for (const [key, spelling] of firstSpelling) {
    const row = byKey.get(key)
    if (row) users.push(toUser(row))
    else notFound.push(spelling)
  }
  return { users, notFound }
}

export async function insertRoom(trx: Transaction<Database>, name: string, createdBy: string): Promise<string> {
  const row = await trx.insertInto('rooms').values({ name, created_by: createdBy }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

/**
 * Creates the direct room of two users unless they have one. Undefined when
 * they have: the unique ordered pair (migration 0004) makes a concurrent
 * second insert wait for the first and then do nothing, so two users asking
 * at the same moment get one room.
 */
export async function insertDirectRoom(trx: Transaction<Database>, createdBy: string, otherId: string): Promise<string | undefined> {
  const row = await trx
    .insertInto('rooms')
    .values({
      name: '',
      created_by: createdBy,
      kind: 'direct',
      direct_user_low: sql<string>`least(${createdBy}::uuid, ${otherId}::uuid)`,
      direct_user_high: sql<string>`greatest(${createdBy}::uuid, ${otherId}::uuid)`
    })
    .onConflict((conflict) => conflict.columns(['direct_user_low', 'direct_user_high']).doNothing())
    .returning('id')
    .executeTakeFirst()
  return row?.id
}

/** The id of the direct room of two users, when they have one. */
export async function findDirectRoom(db: Kysely<Database>, userA: string, userB: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('rooms')
    .select('id')
    .where('direct_user_low', '=', sql<string>`least(${userA}::uuid, ${userB}::uuid)`)
    .where('direct_user_high', '=', sql<string>`greatest(${userA}::uuid, ${userB}::uuid)`)
    .executeTakeFirst()
  return row?.id
}


/** Adds participants; returns the ids of those who were not in the room yet. */
export async function addParticipants(
  trx: Transaction<Database>,
  roomId: string,
  users: ReadonlyArray<{ id: string; role: Participant['role'] }>
): Promise<Set<string>> {
  if (users.length === 0) return new Set()
  const rows = await trx
    .insertInto('room_participants')
    .values(users.map((user) => ({ room_id: roomId, user_id: user.id, role: user.role })))
    .onConflict((conflict) => conflict.columns(['room_id', 'user_id']).doNothing())
    .returning('user_id')
    .execute()
  return new Set(rows.map((row) => row.user_id))
}

export async function removeParticipant(trx: Transaction<Database>, roomId: string, userId: string): Promise<boolean> {
  const result = await trx.deleteFrom('room_participants').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst()
  return result.numDeletedRows > 0n
}

export async function updateRoomSettings(trx: Transaction<Database>, roomId: string, settings: { name?: string; members_can_add?: boolean }): Promise<void> {
  await trx.updateTable('rooms').set(settings).where('id', '=', roomId).execute()
}

/** Moves the caller's read position forward only, clamped to the room's last seq. */
export async function advanceReadPosition(db: Kysely<Database>, roomId: string, userId: string, seq: number): Promise<number | undefined> {
  const row = await db
    .updateTable('room_participants')
    .from('rooms')
    .set({ last_read_seq: sql<number>`greatest(room_participants.last_read_seq, least(${seq}::bigint, rooms.last_seq))` })
    .whereRef('rooms.id', '=', 'room_participants.room_id')
    .where('room_participants.room_id', '=', roomId)
    .where('room_participants.user_id', '=', userId)
    .returning('room_participants.last_read_seq')
    .executeTakeFirst()
  return row?.last_read_seq
}

/** Messages by others past each room's read position of `userId`, deleted ones excluded; one grouped query. */
export async function unreadCounts(db: Kysely<Database>, userId: string, roomIds: readonly string[]): Promise<Map<string, number>> {
  if (roomIds.length === 0) return new Map()
  const rows = await db
    .selectFrom('messages')
    .innerJoin('room_participants', (join) =>
      join.onRef('room_participants.room_id', '=', 'messages.room_id').on('room_participants.user_id', '=', userId)
    )
    .select(['messages.room_id', (eb) => eb.fn.countAll<number>().as('unread')])
    .where('messages.room_id', 'in', roomIds)
    .whereRef('messages.seq', '>', 'room_participants.last_read_seq')
    .where('messages.sender_id', '<>', userId)
    .where('messages.deleted_at', 'is', null)
    .groupBy('messages.room_id')
    .execute()
  return new Map(rows.map((row) => [row.room_id, Number(row.unread)]))
}

/** Mentions of `userId` past each room's read position of theirs (deleted messages mention nobody); one grouped query. */
export async function unreadMentions(db: Kysely<Database>, userId: string, roomIds: readonly string[]): Promise<Map<string, number>> {
  if (roomIds.length === 0) return new Map()
  const rows = await db
    .selectFrom('message_mentions')
    .innerJoin('room_participants', (join) =>
      join.onRef('room_participants.room_id', '=', 'message_mentions.room_id').onRef('room_participants.user_id', '=', 'message_mentions.user_id')
    )
    .select(['message_mentions.room_id', (eb) => eb.fn.countAll<number>().as('mentions')])
    .where('message_mentions.user_id', '=', userId)
    .where('message_mentions.room_id', 'in', roomIds)
    .whereRef('message_mentions.seq', '>', 'room_participants.last_read_seq')
    .groupBy('message_mentions.room_id')
    .execute()
  return new Map(rows.map((row) => [row.room_id, Number(row.mentions)]))
}

/** A position in a user's room list: the activity time (epoch microseconds, exact) and id of the last room seen. */
export interface RoomListCursor {
  activityMicros: number
  roomId: string
}

export function encodeRoomCursor(cursor: RoomListCursor): string {
  return Buffer.from(`${cursor.activityMicros}.${cursor.roomId}`).toString('base64url')
}

/** Undefined for anything that is not a cursor this service made. */
export function decodeRoomCursor(text: string): RoomListCursor | undefined {
  const match = /^(\d{1,16})\.([0-9a-f-]{36})$/.exec(Buffer.from(text, 'base64url').toString('utf8'))
  if (!match?.[1] || !match[2]) return undefined
  const activityMicros = Number(match[1])
  return Number.isSafeInteger(activityMicros) ? { activityMicros, roomId: match[2] } : undefined
}

export type RoomScope =
  | { memberId: string; limit?: number; before?: RoomListCursor }
  | { roomIds: readonly string[] }

/** The rooms of a page, and the cursor of the next page when there is one. */
export async function listRoomPage(db: Kysely<Database>, memberId: string, limit: number, before?: RoomListCursor): Promise<{ rooms: Room[]; next?: RoomListCursor }> {
  const entries = await loadRoomEntries(db, { memberId, limit: limit + 1, before })
  const page = entries.slice(0, limit)
  const last = page.at(-1)
  const rooms = page.map((entry) => entry.room)
  return entries.length > limit && last ? { rooms, next: { activityMicros: last.activityMicros, roomId: last.room.id } } : { rooms }
}

/**
 * Rooms as `Room` in a fixed number of queries whatever their number: the
 * rooms (with creator and avatar), their participants, the caller's read
 * positions, unread counts and unread mentions. `scope` is either the caller's rooms by last
 * activity, or the given ids. Without `viewerId` (event payloads, which are
 * not any one reader's), the read position and unread count are 0.
 */
export async function loadRooms(db: Kysely<Database>, scope: RoomScope, viewerId?: string): Promise<Room[]> {
  return (await loadRoomEntries(db, scope, viewerId)).map((entry) => entry.room)
}

async function loadRoomEntries(db: Kysely<Database>, scope: RoomScope, viewerId?: string): Promise<Array<{ room: Room; activityMicros: number }>> {
  const viewer = 'memberId' in scope ? scope.memberId : viewerId
  let query = db
    .selectFrom('rooms')
    .innerJoin('users as creator', 'creator.id', 'rooms.created_by')
    .leftJoin('room_avatars', 'room_avatars.room_id', 'rooms.id')
    .select([
      'rooms.id',
      'rooms.kind',
      'rooms.name',
      'rooms.created_at',
      'rooms.last_seq',
      'rooms.last_activity_at',
      'rooms.members_can_add',
      'creator.id as creator_id',
      'creator.display_name as creator_name',
      'creator.created_at as creator_created_at',
      'room_avatars.etag',
      // Exact to the microsecond, unlike a JS Date: the list cursor compares it.
      sql<number>`(extract(epoch from rooms.last_activity_at) * 1000000)::bigint`.as('activity_micros')
    ])
  if ('memberId' in scope) {
    query = query
      .innerJoin('room_participants as me', (join) => join.onRef('me.room_id', '=', 'rooms.id').on('me.user_id', '=', scope.memberId))
      .orderBy('rooms.last_activity_at', 'desc')
      .orderBy('rooms.id', 'desc')
    if (scope.limit !== undefined) query = query.limit(scope.limit)
    const before = scope.before
    if (before) {
      const at = sql<Date>`timestamptz 'epoch' + ${before.activityMicros}::bigint * interval '1 microsecond'`
      query = query.where((eb) => eb(eb.refTuple('rooms.last_activity_at', 'rooms.id'), '<', eb.tuple(at, before.roomId)))
    }
  } else {
    if (scope.roomIds.length === 0) return []
    query = query.where('rooms.id', 'in', scope.roomIds)
  }
  const rooms = await query.execute()
  if (rooms.length === 0) return []
  const roomIds = rooms.map((room) => room.id)

  const [participantRows, readRows, unread, mentions] = await Promise.all([
    db
      .selectFrom('room_participants')
      .innerJoin('users', 'users.id', 'room_participants.user_id')
      .select([
        'room_participants.room_id',
        'users.id',
        'users.display_name',
        'room_participants.role',
        'room_participants.joined_at',
        'room_participants.last_read_seq',
        'users.last_seen_at'
      ])
      .where('room_participants.room_id', 'in', roomIds)
      .orderBy('room_participants.joined_at')
      .orderBy('users.display_name_key')
      .execute(),
    viewer
      ? db.selectFrom('room_participants').select(['room_id', 'last_read_seq']).where('user_id', '=', viewer).where('room_id', 'in', roomIds).execute()
      : Promise.resolve([]),
    viewer ? unreadCounts(db, viewer, roomIds) : Promise.resolve(new Map<string, number>()),
    viewer ? unreadMentions(db, viewer, roomIds) : Promise.resolve(new Map<string, number>())
  ])
  const participants = new Map<string, Participant[]>()
  for (const row of participantRows) {
    const list = participants.get(row.room_id) ?? []
    const participant: Participant = { id: row.id, display_name: row.display_name, role: row.role, joined_at: row.joined_at.toISOString() }
    // A reader's view (not an event payload, which would go stale): where each one read to, and when they were last seen.
    if (viewer) {
      participant.last_read_seq = row.last_read_seq
      participant.last_seen_at = row.last_seen_at?.toISOString() ?? null
    }
    list.push(participant)
    participants.set(row.room_id, list)
  }
  const lastRead = new Map(readRows.map((row) => [row.room_id, row.last_read_seq]))
  return rooms.map((room) => ({
    activityMicros: Number(room.activity_micros),
    room: {
      id: room.id,
      kind: room.kind,
      name: room.kind === 'direct' ? directRoomName(participants.get(room.id) ?? [], viewer) : room.name,
      created_by: { id: room.creator_id, display_name: room.creator_name, created_at: room.creator_created_at.toISOString() },
      participants: participants.get(room.id) ?? [],
      avatar_url: avatarUrl(room.id, room.etag),
      created_at: room.created_at.toISOString(),
      last_seq: room.last_seq,
      last_read_seq: lastRead.get(room.id) ?? 0,
      unread_count: unread.get(room.id) ?? 0,
      unread_mentions: mentions.get(room.id) ?? 0,
      members_can_add: room.members_can_add
    }
  }))
}

/**
 * A direct room is called by the other participant's display name, so each
 * of the two sees the other's. Without a viewer (nobody's view) it is both
 * names, in order.
 */
function directRoomName(participants: readonly Participant[], viewerId: string | undefined): string {
  const other = participants.find((participant) => participant.id !== viewerId)
  if (viewerId !== undefined && other) return other.display_name
  return participants.map((participant) => participant.display_name).sort().join(', ')
}
