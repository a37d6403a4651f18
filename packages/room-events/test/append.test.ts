import t from 'tap'
import { createTestDatabase } from '@chat/db/testing'
import { appendRoomEvent, uuidv7 } from '../src/index.js'
import { seedRoom } from './helper.js'

const user = { id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f', display_name: 'Ada', created_at: '2026-11-26T20:15:00.123Z' }

t.test('concurrent writers get gapless seqs, one event row each', async (t) => {
  const { db } = await createTestDatabase(t)
  const { roomId } = await seedRoom(db)
  const writers = 40
  const events = await Promise.all(
    Array.from({ length: writers }, () =>
      db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
    )
  )
  t.same(events.map((event) => event.seq).sort((a, b) => a - b), Array.from({ length: writers }, (_, index) => index + 1))
  const rows = await db.selectFrom('room_events').select(['seq', 'type', 'payload']).where('room_id', '=', roomId).orderBy('seq').execute()
  t.equal(rows.length, writers)
  t.same(rows[0]?.payload, { type: 'participants.added', room_id: roomId, seq: 1, users: [user] }, 'the payload is the frame')
  const room = await db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow()
  t.equal(room.last_seq, writers)
  const first = events.find((event) => event.seq === 1)
  t.same(JSON.parse(Buffer.from(first?.payload ?? []).toString()), { type: 'participants.added', room_id: roomId, seq: 1, users: [user] })
})

t.test('a rolled back change leaves no event and consumes no seq', async (t) => {
  const { db } = await createTestDatabase(t)
  const { roomId } = await seedRoom(db)
  await t.rejects(
    db.transaction().execute(async (trx) => {
      await appendRoomEvent(trx, roomId, 'participants.removed', { users: [user] })
      throw new Error('the change failed')
    }),
    /the change failed/
  )
  t.equal((await db.selectFrom('room_events').select('seq').execute()).length, 0)
  const next = await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.removed', { users: [user] }))
  t.equal(next.seq, 1)
})

t.test('an unknown room is the coded 404 room_not_found, not an event', async (t) => {
  const { db } = await createTestDatabase(t)
  await t.rejects(
    db.transaction().execute((trx) => appendRoomEvent(trx, '00000000-0000-4000-8000-000000000000', 'participants.added', { users: [] })),
    { statusCode: 404, code: 'room_not_found', message: 'No such room' }
  )
  t.equal((await db.selectFrom('room_events').select('seq').execute()).length, 0)
})

t.test('data given as a function runs once the seq is taken, in the same transaction', async (t) => {
  const { db } = await createTestDatabase(t)
  const { roomId } = await seedRoom(db)
  const event = await db.transaction().execute((trx) =>
    appendRoomEvent(trx, roomId, 'message.deleted', async (seq) => {
      const room = await trx.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow()
      t.equal(room.last_seq, seq, 'the room already counts this event')
      return { message_id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f' }
    })
  )
  t.equal(event.seq, 1)
  const row = await db.selectFrom('room_events').select('payload').executeTakeFirstOrThrow()
  t.same(row.payload, { type: 'message.deleted', room_id: roomId, seq: 1, message_id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f' })
})

t.test('uuidv7 ids are version 7 and sort by creation', async (t) => {
  const ids = Array.from({ length: 2000 }, () => uuidv7())
  for (const id of ids.slice(0, 5)) t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  t.same([...ids].sort(), ids, 'lexical order is creation order')
  t.equal(new Set(ids).size, ids.length)
  const before = Date.now()
  const stamp = parseInt(uuidv7().replaceAll('-', '').slice(0, 12), 16)
  t.ok(stamp >= before && stamp <= Date.now() + 5, 'the time prefix is the millisecond timestamp')
})
