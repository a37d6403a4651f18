import t from 'tap'
import { build } from './helper.js'
import { sendRequestAnswersLikeHttp } from './send-request-cases.js'

t.test('svc.messages.send over the in-process bus answers like POST /messages/:room_id/', async (t) => {
  const harness = await build(t)
  await sendRequestAnswersLikeHttp(t, harness, harness.bus)
})
