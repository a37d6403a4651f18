// One message traced across processes: identity, rooms, messages and the
// realtime gateways run as operators run them, with OTEL_EXPORTER_OTLP_ENDPOINT
// pointing at an OTLP/HTTP receiver in this test (JSON encoding). One message
// is sent over HTTP to a room a socket watches; the test asserts the span
// tree of that message's trace, from the POST through the transaction and
// the NATS publish (messages) to the gateway's receipt and socket write
// (realtime), and prints it.
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import { startServicesMode } from './helper.js'

interface ReceivedSpan {
  service: string
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  startNs: bigint
  attributes: Record<string, unknown>
  links: Array<{ traceId: string; spanId: string }>
}

/** OTLP/JSON ids are hex; the protobuf-style base64 of other encoders is turned into hex. */
function hexId(id: unknown): string {
  if (typeof id !== 'string' || id === '') return ''
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex')
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
function attributesOf(list: Array<{ key: string; value: AnyValue }> | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue]))
}

/** An OTLP/HTTP trace receiver (`POST /v1/traces`, JSON) that keeps every span it is sent. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = []
  const readBody = async (request: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }
  const server = createServer((request, response) => {
    void readBody(request).then((body) => {
      if (request.method === 'POST' && request.url === '/v1/traces' && /json/.test(request.headers['content-type'] ?? '')) {
        const payload = JSON.parse(body) as { resourceSpans?: Array<{ resource?: { attributes?: Array<{ key: string; value: AnyValue }> }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }> }
        for (const resourceSpans of payload.resourceSpans ?? []) {
          const serviceName = attributesOf(resourceSpans.resource?.attributes)['service.name']
          const service = typeof serviceName === 'string' ? serviceName : '?'
          for (const scope of resourceSpans.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) {
              spans.push({
                service,
                traceId: hexId(span.traceId),
                spanId: hexId(span.spanId),
                parentSpanId: hexId(span.parentSpanId),
                name: String(span.name),
                kind: Number(span.kind ?? 0),
                startNs: BigInt(span.startTimeUnixNano as string | number | undefined ?? 0),
                attributes: attributesOf(span.attributes as Array<{ key: string; value: AnyValue }>),
                links: ((span.links ?? []) as Array<{ traceId: string; spanId: string }>).map((link) => ({ traceId: hexId(link.traceId), spanId: hexId(link.spanId) }))
              })
            }
          }
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } else {
        response.writeHead(415).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve()))
  }
}

/** The trace as an indented tree, children in start order: `service: name`. */
function renderTree(spans: ReceivedSpan[]): string {
  const byParent = new Map<string, ReceivedSpan[]>()
  const ids = new Set(spans.map((span) => span.spanId))
  for (const span of spans) {
    const parent = ids.has(span.parentSpanId) ? span.parentSpanId : ''
    byParent.set(parent, [...(byParent.get(parent) ?? []), span])
  }
  const lines: string[] = []
  const walk = (parent: string, depth: number): void => {
    for (const span of (byParent.get(parent) ?? []).sort((a, b) => (a.startNs < b.startNs ? -1 : 1))) {
      lines.push(`${'  '.repeat(depth)}${span.service}: ${span.name}`)
      walk(span.spanId, depth + 1)
    }
  }
  walk('', 0)
  return lines.join('\n')
}

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
  t.comment(`the trace of one message (${traceSpans.length} spans, trace id ${publish!.traceId}):\n${renderTree(traceSpans)}`)

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
