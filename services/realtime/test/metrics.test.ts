// The gateway's metrics, each made to move by what it counts, read as a
// scrape of /metrics sees them.
import { test } from 'tap'
import { closeCodes } from '@chat/contracts'
import { metricValue } from '@chat/service-kit/testing'
import { build, connect, seqsOf } from './helper.js'

/** A committed event whose publish was lost (the writer died after commit). */
async function withheldEvent(h: Awaited<ReturnType<typeof build>>, roomId: string, messageId: string): Promise<void> {
  await h.db.transaction().execute(async (trx) => {
    const room = await trx.updateTable('rooms').set((eb) => ({ last_seq: eb('last_seq', '+', 1) })).where('id', '=', roomId).returning('last_seq').executeTakeFirstOrThrow()
    await trx
      .insertInto('room_events')
      .values({ room_id: roomId, seq: room.last_seq, type: 'message.deleted', payload: JSON.stringify({ type: 'message.deleted', room_id: roomId, seq: room.last_seq, message_id: messageId }) })
      .execute()
  })
}

test('connections, closes by code, delivery lag, gap fills and reconciliations', async (t) => {
  const h = await build(t, { gateway: { reconcileMs: 100, rateLimitFps: 5, rateLimitBurst: 10 } })
  const registry = h.gateways[0]!.app.metrics
  const value = (name: string, labels: Record<string, string> = {}, sample?: string): Promise<number> => metricValue(registry, name, labels, sample)
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  const socket = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  await socket.next('subscribed')
  t.equal(await value('realtime_sockets_accepted_total'), 1, 'a connection accepted')
  t.equal(await value('realtime_sockets_open'), 1, 'and open')
  t.equal(await value('realtime_delivery_lag_seconds', {}, 'realtime_delivery_lag_seconds_count'), 0, 'no event delivered yet')

  await h.send(ada, roomId, 'one')
  await socket.until(() => seqsOf(socket, roomId).length === 1)
  t.equal(await value('realtime_delivery_lag_seconds', {}, 'realtime_delivery_lag_seconds_count'), 1, 'one live event, one lag observed')
  const lag = await value('realtime_delivery_lag_seconds', {}, 'realtime_delivery_lag_seconds_sum')
  t.ok(lag >= 0 && lag < 5, `from commit to socket in ${lag} s`)

  await withheldEvent(h, roomId, '0190a0a0-0000-7000-8000-000000000001')
  await h.send(ada, roomId, 'three')
  await socket.until(() => seqsOf(socket, roomId).length === 3)
  t.ok((await value('realtime_gap_fills_total')) >= 1, 'the withheld event came by a gap fill')

  // Nothing follows this one: only the reconciliation finds it.
  await withheldEvent(h, roomId, '0190a0a0-0000-7000-8000-000000000002')
  await socket.until(() => seqsOf(socket, roomId).length === 4, 5_000, 'the lost event')
  t.ok((await value('realtime_reconciliations_total')) >= 1, 'the watched rooms were compared with the store')
  t.ok((await value('realtime_catch_ups_total')) >= 1, 'and the room caught up')

  socket.close()
  t.equal((await socket.closed).code, 1005, 'closed by the client without a code')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(await value('realtime_socket_closes_total', { code: '1005' }), 1, 'the close is counted by its code')
  t.equal(await value('realtime_sockets_open'), 0)

  const flooding = connect(t, h.gateways[0]!, '/ws/', ada)
  await flooding.opened
  for (let index = 0; index < 30; index++) flooding.send({ type: 'ping' })
  t.equal((await flooding.closed).code, closeCodes.rateLimited)
  t.equal(await value('realtime_server_closes_total', { code: String(closeCodes.rateLimited) }), 1, 'the gateway\'s own closes by the code it sent')

  const scrape = await h.gateways[0]!.app.inject({ url: '/metrics' })
  for (const name of ['realtime_delivery_lag_seconds_bucket', 'realtime_socket_closes_total', 'realtime_reconciliations_total', 'realtime_sockets_accepted_total']) {
    t.match(scrape.body, new RegExp(`^${name}[{ ]`, 'm'), `${name} on /metrics`)
  }
})

test('a slow consumer: frames dropped and the socket closed for slowness', async (t) => {
  const h = await build(t, { gateway: { sendQueueBytes: 64 * 1024 } })
  const registry = h.gateways[0]!.app.metrics
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  const slow = connect(t, h.gateways[0]!, `/ws/chat/${roomId}/`, ada)
  await slow.next('subscribed')
  t.equal(await metricValue(registry, 'realtime_slow_socket_closes_total'), 0)
  const tcp = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
  tcp.pause()
  // 16 KB frames, 10 MB in all: more than the kernel's socket buffers hold (as socket.test.ts).
  for (let index = 0; index < 600; index++) await h.send(ada, roomId, `${index} ${'😀'.repeat(3990)}`)
  tcp.resume()
  await slow.closed
  t.equal(await metricValue(registry, 'realtime_slow_socket_closes_total'), 1, 'closed for slowness')
  t.equal(await metricValue(registry, 'realtime_server_closes_total', { code: String(closeCodes.tooSlow) }), 1)
  t.ok((await metricValue(registry, 'realtime_frames_dropped_total')) >= 1, 'the frame that did not fit was dropped')
})
