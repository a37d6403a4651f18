import t from 'tap'
import { createInProcessBus } from '@chat/bus'
import { startRoomEventRelay } from '@chat/room-events'
import { flakyBus } from '@chat/service-kit/testing'
import { build, publicUser, settle, silentLogger, waitFor } from './helper.js'

t.test('a reaction committed while publishing fails is published by the relay', async (t) => {
  const inner = createInProcessBus()
  t.teardown(() => inner.close())
  const bus = flakyBus(inner, true)
  const { db, events, createUser, createRoom, createMessage, react } = await build(t, { bus, observeBus: inner })
  const ada = await createUser()
  const roomId = await createRoom(ada)
  const messageId = await createMessage(ada, roomId)
  const response = await react(ada, messageId, { reaction: 'sad' })
  t.equal(response.statusCode, 201, 'the reaction is stored')
  await settle()
  t.equal(events.length, 0, 'nothing got out')
  const pending = await db.selectFrom('room_events_outbox').select('seq').where('type', '=', 'reaction.updated').execute()
  t.same(pending, [{ seq: 2 }], 'the outbox keeps it')

  bus.down = false
  // The helper's message.created event is left out of the bus on purpose; the relay publishes both in seq order.
  const relay = startRoomEventRelay({ db, bus, logger: silentLogger, intervalMs: 50, staleAfterMs: 100 })
  t.teardown(() => relay.stop())
  await waitFor(() => events.length === 2, 5_000)
  t.same(events.map((event) => event.seqHeader), ['1', '2'])
  t.equal(events[1]?.subject, `chat.room.${roomId}.reaction.updated`)
  t.same(events[1]?.frame, {
    type: 'reaction.updated',
    room_id: roomId,
    seq: 2,
    message_id: messageId,
    user: publicUser(ada),
    reaction: 'sad',
    reactions: { sad: 1 }
  })
})
