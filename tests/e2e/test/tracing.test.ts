// One message traced across processes: identity, rooms, messages and the
// realtime gateways run as operators run them, with OTEL_EXPORTER_OTLP_ENDPOINT
// pointing at an OTLP/HTTP receiver in this test (JSON encoding). One message
// is sent over HTTP to a room a socket watches; the test asserts the span
// tree of that message's trace, from the POST through the transaction and
// the NATS publish (messages) to the gateway's receipt and socket write
// (realtime), and prints it.
import t from 'tap'
import WebSocket from 'ws'
import { renderSpanTree, startOtlpReceiver, type ReceivedSpan } from '@chat/service-kit/testing'
import { startServicesMode } from './helper.js'

await t.test('one message, one trace: POST → transaction → NATS publish → gateway receipt → socket write', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const mode = await startServicesMode(t, {
    services: ['identity', 'rooms', 'messages', 'realtime'],
    nats: 'private',
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Spans leave within a tenth of a second instead of five.
      OTEL_BSP_SCHEDULE_DELAY: '100'
    }
  })
  if (!mode) return
  const post = async (path: string, body: unknown, token?: string): Promise<Response> =>
    fetch(mode.url(path), { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
  const session = (await (await post('/auth/register', { display_name: 'Ada Lovelace', password: 'correct horse battery' })).json()) as { access_token: string }
  const room = (await (await post('/chatrooms', { name: 'traced' }, session.access_token)).json()) as { id: string }

  const gateway = mode.services.find((service) => service.name.startsWith('realtime'))!
  const socket = new WebSocket(`${gateway.url.replace(/^http/, 'ws')}/ws/chat/${room.id}/`, ['bearer', session.access_token])
  t.teardown(() => socket.terminate())
  const frames: Array<{ type: string; seq?: number }> = []
  socket.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8')) as { type: string }))
  const until = async (condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  await until(() => frames.some((frame) => frame.type === 'subscribed'), 'subscribed')

  const sent = await post(`/messages/${room.id}/`, { text: 'follow me' }, session.access_token)
  t.equal(sent.status, 201, 'the message is stored')
  await until(() => frames.some((frame) => frame.type === 'message.created'), 'the message.created frame')

  // The gateway's spans end after the frame is written: wait until they are exported.
  let publish: ReceivedSpan | undefined
  await until(() => {
    publish = receiver.spans.find((span) => span.service === 'messages' && span.name === 'publish chat.room.*.message.created')
    return publish !== undefined && receiver.spans.some((span) => span.traceId === publish!.traceId && span.name === 'socket write')
  }, 'the spans of both processes', 15_000)
  const traceSpans = receiver.spans.filter((span) => span.traceId === publish!.traceId)
  t.comment(`the trace of one message (${traceSpans.length} spans, trace id ${publish!.traceId}):\n${renderSpanTree(traceSpans)}`)

  const byId = new Map(traceSpans.map((span) => [span.spanId, span]))
  const ancestors = (span: ReceivedSpan): ReceivedSpan[] => {
    const chain: ReceivedSpan[] = []
    for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) chain.push(parent)
    return chain
  }
  const roots = traceSpans.filter((span) => !byId.has(span.parentSpanId))
  t.equal(roots.length, 1, 'one root')
  const root = roots[0]!
  t.match(root, { service: 'messages', kind: 2, parentSpanId: '' }, 'the root is the messages service\'s server span of the POST')
  t.match(root.name, /^POST/, `named by the request (${root.name})`)

  const batch = traceSpans.find((span) => span.name === 'messages send batch')
  t.ok(batch && ancestors(batch).includes(root), 'the send batch is under the request')
  const queries = traceSpans.filter((span) => span.service === 'messages' && span.attributes['db.system'] === 'postgresql' || /^pg\./.test(span.name))
  t.ok(queries.some((query) => batch && ancestors(query).includes(batch)), 'its queries (the transaction) are spans under the batch')
  t.ok(ancestors(publish!).includes(root), 'the NATS publish is in the request\'s trace')
  t.equal(publish!.kind, 4, 'a producer span')

  const receive = traceSpans.find((span) => span.service === 'realtime' && span.name === 'receive chat.room.*.message.created')
  t.equal(receive?.parentSpanId, publish!.spanId, 'the gateway\'s receipt is a child of the publish, across processes (W3C traceparent in the NATS headers)')
  t.equal(receive?.kind, 5, 'a consumer span')
  const write = traceSpans.find((span) => span.service === 'realtime' && span.name === 'socket write')
  t.equal(write?.parentSpanId, receive?.spanId, 'the socket write is a child of the receipt')
  t.equal(write?.attributes['chat.sockets'], 1, 'to the one socket that watches the room')

  t.notOk(receiver.spans.some((span) => /\/(healthz|readyz|metrics)\b/.test(span.name)), 'no probe or scrape is traced')
})
