import t from 'tap'
import { CHAT_EVENTS_STREAM, subjects } from '@chat/contracts'
import { natsBusOrSkip } from '@chat/service-kit/testing'
import { build, publicUser, receivedEvent, waitFor, type ReceivedEvent } from './helper.js'

// The real CHAT_EVENTS stream: a test stream with the same subjects would
// overlap it. Fresh room ids (each test database makes its own) keep runs apart.
const bus = await natsBusOrSkip(t, { name: 'reactions-test' })

if (bus) {
  t.teardown(() => bus.close())

  t.test('set, replace and remove reach NATS on chat.room.<id>.reaction.updated, each stored once in CHAT_EVENTS', async (t) => {
    const { createUser, createRoom, createMessage, react, unreact } = await build(t, { bus, observe: false })
    const ada = await createUser('Ada')
    const bob = await createUser('Bob')
    const roomId = await createRoom(ada, [bob])
    const messageId = await createMessage(ada, roomId)
    const received: ReceivedEvent[] = []
    const subscription = await bus.subscribe(subjects.roomEvent(roomId, 'reaction.updated'), (message) => { received.push(receivedEvent(message)) })
    t.teardown(() => subscription.unsubscribe())

    t.equal((await react(ada, messageId, { reaction: 'like' })).statusCode, 201)
    t.equal((await react(bob, messageId, { reaction: 'like' })).statusCode, 201)
    t.equal((await react(bob, messageId, { reaction: 'love' })).statusCode, 200)
    t.equal((await react(bob, messageId, { reaction: 'love' })).statusCode, 200, 'the same again: no event')
    t.equal((await unreact(ada, messageId)).statusCode, 204)
    await waitFor(() => received.length >= 4)
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.equal(received.length, 4, 'four changes, four events')
    received.sort((a, b) => Number(a.seqHeader) - Number(b.seqHeader))
    t.same(received.map((event) => event.subject), Array(4).fill(`chat.room.${roomId}.reaction.updated`))
    t.same(received.map((event) => event.seqHeader), ['2', '3', '4', '5'])
    t.same(received.map((event) => event.msgIdHeader), [2, 3, 4, 5].map((seq) => `${roomId}:${seq}`), 'the message id de-duplicates re-publishes')
    t.same(received.map((event) => event.frame), [
      { type: 'reaction.updated', room_id: roomId, seq: 2, message_id: messageId, user: publicUser(ada), reaction: 'like', reactions: { like: 1 } },
      { type: 'reaction.updated', room_id: roomId, seq: 3, message_id: messageId, user: publicUser(bob), reaction: 'like', reactions: { like: 2 } },
      { type: 'reaction.updated', room_id: roomId, seq: 4, message_id: messageId, user: publicUser(bob), reaction: 'love', reactions: { like: 1, love: 1 } },
      { type: 'reaction.updated', room_id: roomId, seq: 5, message_id: messageId, user: publicUser(ada), reaction: null, reactions: { love: 1 } }
    ])

    // The JetStream API over core NATS: this package does not depend on the JetStream client.
    const reply = await bus.connection.request(
      `$JS.API.STREAM.INFO.${CHAT_EVENTS_STREAM}`,
      JSON.stringify({ subjects_filter: `chat.room.${roomId}.>` }),
      { timeout: 2_000 }
    )
    const info = JSON.parse(new TextDecoder().decode(reply.data)) as { state?: { subjects?: Record<string, number> } }
    t.same(info.state?.subjects, { [`chat.room.${roomId}.reaction.updated`]: 4 }, 'stored once each in CHAT_EVENTS')
  })
}
