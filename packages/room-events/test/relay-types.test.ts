// A writer's relay re-publishes only the event types that writer may publish
// on NATS (deploy/nats/permissions.ts): rooms never tries a stranded message
// event, which its NATS user would be refused.
import t from 'tap'
import { createInProcessBus } from '@chat/bus'
import { createTestDatabase } from '@chat/db/testing'
import { envelopeHeaders, roomEventWriters } from '@chat/contracts'
import { appendRoomEvent, startRoomEventRelay } from '../src/index.js'
import { collect, seedRoom, silentLogger, waitFor } from './helper.js'

const user = { id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f', display_name: 'Ada', created_at: '2026-11-26T20:15:00.123Z' }

t.test('a relay given types publishes those and leaves the others unpublished', async (t) => {
  const { db } = await createTestDatabase(t)
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  const { roomId } = await seedRoom(db)
  const received = await collect(bus, `chat.room.${roomId}.>`)
  // Stranded: committed, never published. seq 1 (rooms'), 2 (reactions'), 3 (rooms').
  await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
  await db.transaction().execute((trx) =>
    appendRoomEvent(trx, roomId, 'reaction.updated', { message_id: user.id, user, reaction: '👍', reactions: {} })
  )
  await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.removed', { users: [user] }))

  const relay = startRoomEventRelay({ db, bus, logger: silentLogger, intervalMs: 30, staleAfterMs: 0, types: roomEventWriters.rooms })
  t.teardown(() => relay.stop())
  await waitFor(() => received.length === 2)
  t.same(received.map((message) => message.header(envelopeHeaders.seq)), ['1', '3'], "rooms' two events, in order, past the reaction event")
  await waitFor(async () => (await db.selectFrom('room_events_outbox').select('seq').execute()).length === 1)
  const left = await db.selectFrom('room_events_outbox').select(['seq', 'type']).execute()
  t.same(left, [{ seq: 2, type: 'reaction.updated' }], "the reaction event waits for reactions' relay")

  await relay.stop()
  const reactions = startRoomEventRelay({ db, bus, logger: silentLogger, intervalMs: 30, staleAfterMs: 0, types: roomEventWriters.reactions })
  t.teardown(() => reactions.stop())
  await waitFor(() => received.length === 3)
  t.equal(received[2]?.subject, `chat.room.${roomId}.reaction.updated`)
})
