import t from 'tap'
import { natsBusOrSkip } from '@chat/service-kit/testing'
import { build } from './helper.js'
import { sendRequestAnswersLikeHttp } from './send-request-cases.js'

const testId = `${process.pid}_${Date.now()}`
// A stream of its own that overlaps nothing: JetStream refuses a second stream
// over the chat.room subjects when the server already keeps CHAT_EVENTS. The
// room events of this test then travel over core NATS, which is all that the
// request path under test needs.
const bus = await natsBusOrSkip(t, { name: 'messages-test', stream: { name: `TEST_MESSAGES_${testId}`, subjects: [`test.messages.${testId}.>`] } })

if (bus) {
  t.teardown(async () => {
    // The JetStream API over core NATS: this package does not depend on the JetStream client.
    await bus.connection.request(`$JS.API.STREAM.DELETE.${bus.streamName}`, undefined, { timeout: 2_000 }).catch(() => undefined)
    await bus.close()
  })

  t.test('svc.messages.send over nats-server answers like POST /messages/:room_id/', async (t) => {
    // Its own subject: another process on this NATS server may serve svc.messages.send for another database.
    const sendSubject = `svc.messages.send.test-${testId}`
    const harness = await build(t, { bus, sendSubject })
    await sendRequestAnswersLikeHttp(t, harness, bus, sendSubject)
  })
}
