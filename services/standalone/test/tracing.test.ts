// The standalone process traces too when OTEL_EXPORTER_OTLP_ENDPOINT is set:
// one message sent over HTTP to a room a socket watches is one trace, from
// the POST through the in-process bus to the socket write.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import WebSocket from 'ws'
import { renderSpanTree, startOtlpReceiver, startServiceProcess, type ReceivedSpan } from '@chat/service-kit/testing'

const mainFile = fileURLToPath(new URL('../dist/main.js', import.meta.url))

t.test('one message, one trace in the standalone process', async (t) => {
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const dataDir = await mkdtemp(join(tmpdir(), 'chat-standalone-trace-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const running = await startServiceProcess(mainFile, {
    DATA_DIR: dataDir,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100'
  })
  t.teardown(() => { running.child.kill('SIGKILL') })
  const post = async (path: string, body: unknown, token?: string): Promise<Response> =>
    fetch(`${running.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
  const session = (await (await post('/auth/register', { display_name: 'Grace', password: 'long enough' })).json()) as { access_token: string }
  const room = (await (await post('/chatrooms', { name: 'traced' }, session.access_token)).json()) as { id: string }
  const socket = new WebSocket(`${running.baseUrl.replace(/^http/, 'ws')}/ws/chat/${room.id}/`, ['bearer', session.access_token])
  t.teardown(() => socket.terminate())
  const frames: string[] = []
  socket.on('message', (data: Buffer) => frames.push((JSON.parse(data.toString('utf8')) as { type: string }).type))
  const until = async (condition: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 15_000
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  await until(() => frames.includes('subscribed'), 'subscribed')
  t.equal((await post(`/messages/${room.id}/`, { text: 'traced here too' }, session.access_token)).status, 201)
  await until(() => frames.includes('message.created'), 'the frame')

  let publish: ReceivedSpan | undefined
  await until(() => {
    publish = receiver.spans.find((span) => span.name === 'publish chat.room.*.message.created')
    return publish !== undefined && receiver.spans.some((span) => span.traceId === publish!.traceId && span.name === 'socket write')
  }, 'the spans')
  const spans = receiver.spans.filter((span) => span.traceId === publish!.traceId)
  t.comment(`standalone, one message:\n${renderSpanTree(spans)}`)
  t.ok(spans.every((span) => span.service === 'standalone'), 'one process: service.name standalone')
  const root = spans.find((span) => span.parentSpanId === '')
  t.match(root?.name, /^POST/, 'the root is the POST')
  const receive = spans.find((span) => span.name === 'receive chat.room.*.message.created')
  t.equal(receive?.parentSpanId, publish!.spanId, 'the gateway\'s receipt is a child of the publish (in-process bus)')
  t.equal(spans.find((span) => span.name === 'socket write')?.parentSpanId, receive?.spanId, 'the socket write a child of the receipt')
})
