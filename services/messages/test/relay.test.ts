import t from 'tap'
import { createInProcessBus } from '@chat/bus'
import type { Message } from '@chat/contracts'
import { startRoomEventRelay } from '@chat/room-events'
import { flakyBus } from '@chat/service-kit/testing'
import { build, settle, silentLogger, waitFor } from './helper.js'

t.test('a message committed while publishing fails is published by the relay', async (t) => {
  const inner = createInProcessBus()
  t.teardown(() => inner.close())
  const bus = flakyBus(inner, true)
  const { db, events, createUser, createRoom, send } = await build(t, { bus, observeBus: inner })
  const ada = await createUser()
  const roomId = await createRoom(ada)
  const response = await send(ada, roomId, { text: 'stranded' })
  t.equal(response.statusCode, 201, 'the send succeeds: the message is stored')
  const message = response.json<Message>()
  await settle()
  t.equal(events.length, 0, 'nothing got out')
  const pending = await db.selectFrom('room_events_outbox').select('seq').execute()
  t.same(pending, [{ seq: 1 }], 'the outbox keeps it')

  bus.down = false
  const relay = startRoomEventRelay({ db, bus, logger: silentLogger, intervalMs: 50, staleAfterMs: 100 })
  t.teardown(() => relay.stop())
  await waitFor(() => events.length === 1, 5_000)
  t.equal(events[0]?.subject, `chat.room.${roomId}.message.created`)
  t.equal(events[0]?.seqHeader, '1')
  t.same(events[0]?.frame, { type: 'message.created', room_id: roomId, seq: 1, message }, 'the same frame the sender would have published')
  await waitFor(async () => (await db.selectFrom('room_events_outbox').select('seq').execute()).length === 0)
})
