import t from 'tap'
import { jetstreamManager } from '@nats-io/jetstream'
import { sql } from 'kysely'
import { createTestDatabase } from '@chat/db/testing'
import { natsBusOrSkip } from '@chat/service-kit/testing'
import { appendRoomEvent, createRoomEventPublisher, startRoomEventRelay } from '../src/index.js'
import { collect, seedRoom, silentLogger, waitFor } from './helper.js'

const user = { id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f', display_name: 'Ada', created_at: '2026-11-26T20:15:00.123Z' }

// The real CHAT_EVENTS stream: a test stream with the same subjects would
// overlap it. Unique room ids keep test runs apart.
const bus = await natsBusOrSkip(t, { name: 'room-events-test' })

if (bus) {
  t.teardown(() => bus.close())

  t.test('over NATS: live publish, then a relay re-publish is a JetStream duplicate', async (t) => {
    const { db } = await createTestDatabase(t)
    const { roomId } = await seedRoom(db)
    const received = await collect(bus, `chat.room.${roomId}.>`)
    const publisher = createRoomEventPublisher({ db, bus, logger: silentLogger, flushMs: 10 })
    const event = await db.transaction().execute((trx) => appendRoomEvent(trx, roomId, 'participants.added', { users: [user] }))
    await publisher.publish([event])
    await waitFor(() => received.length === 1)
    // Its mark is written in the background: let it land before undoing it.
    await publisher.flush()
    // Pretend the writer died before marking it: the relay sends it again.
    await sql`insert into room_events_outbox (room_id, seq, type, created_at) select room_id, seq, type, created_at from room_events on conflict do nothing`.execute(db)
    const relay = startRoomEventRelay({ db, bus, logger: silentLogger, intervalMs: 60_000, staleAfterMs: 0 })
    t.teardown(() => relay.stop())
    t.equal(await relay.runOnce(), 1)
    const manager = await jetstreamManager(bus.connection)
    const info = await manager.streams.info('CHAT_EVENTS', { subjects_filter: `chat.room.${roomId}.>` })
    t.same(info.state.subjects, { [`chat.room.${roomId}.participants.added`]: 1 }, 'the stream stored it once')
    await waitFor(() => received.length === 2)
    t.equal(received[1]?.header('Chat-Seq'), '1', 'core subscribers see the copy; consumers drop it by seq')
    await publisher.close()
  })
}
