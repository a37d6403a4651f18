import t from 'tap'
import { jetstreamManager } from '@nats-io/jetstream'
import { envelopeHeaders } from '@chat/contracts'
import { natsBusOrSkip } from '@chat/service-kit/testing'
import { build, waitFor } from './helper.js'

// The real CHAT_EVENTS stream: a test stream with the same subjects would
// overlap it. Unique room ids keep test runs apart.
const bus = await natsBusOrSkip(t, { name: 'rooms-test' })

if (bus) {
  t.test('room changes reach NATS with their envelope and are stored once in JetStream', async (t) => {
    const manager = await jetstreamManager(bus.connection)
    const { app, user, createRoom, raw } = await build(t, { bus })
    const ada = await user('Ada')
    const bob = await user('Bob')
    const room = await createRoom(ada, 'Over NATS', ['Bob'])
    await app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/participants/me/`, headers: bob.headers })
    await waitFor(() => raw.length === 2)
    t.same(raw.map((message) => message.subject), [`chat.room.${room.id}.participants.added`, `chat.room.${room.id}.participants.removed`])
    t.same(raw.map((message) => message.header(envelopeHeaders.seq)), ['1', '2'])
    t.equal(raw[0]?.header(envelopeHeaders.roomId), room.id)
    t.equal(raw[1]?.header('Nats-Msg-Id'), `${room.id}:2`)
    t.match(JSON.parse(Buffer.from(raw[1]?.data ?? []).toString()), { type: 'participants.removed', seq: 2, users: [{ id: bob.id }] })
    const info = await manager.streams.info('CHAT_EVENTS', { subjects_filter: `chat.room.${room.id}.>` })
    t.same(info.state.subjects, { [`chat.room.${room.id}.participants.added`]: 1, [`chat.room.${room.id}.participants.removed`]: 1 }, 'each stored once in CHAT_EVENTS')
  })
}
