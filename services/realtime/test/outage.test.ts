import { test } from 'tap'
import { sql } from 'kysely'
import { envelopeHeaders, subjects } from '@chat/contracts'
import { createDb } from '@chat/db'
import { startNatsServer, startPostgresServer } from '@chat/process-kit'
import { waitFor } from '@chat/service-kit/testing'
import { build, connect, seqsOf } from './helper.js'

/** Records what would otherwise crash the process or be reported as an unhandled rejection. */
function trackUnhandled(t: { teardown(fn: () => void): void }): unknown[] {
  const seen: unknown[] = []
  const record = (reason: unknown): void => {
    seen.push(reason)
  }
  process.on('unhandledRejection', record)
  process.on('uncaughtException', record)
  t.teardown(() => {
    process.off('unhandledRejection', record)
    process.off('uncaughtException', record)
  })
  return seen
}

test('PostgreSQL goes away and comes back: sockets are answered, nothing crashes or leaks a rejection', async (t) => {
  const unhandled = trackUnhandled(t)
  const postgres = await startPostgresServer()
  t.teardown(() => postgres.destroy())
  // createTestDatabase reads DATABASE_URL: this file's databases live on the private server.
  const saved = process.env.DATABASE_URL
  process.env.DATABASE_URL = postgres.url
  t.teardown(() => {
    if (saved === undefined) delete process.env.DATABASE_URL
    else process.env.DATABASE_URL = saved
  })
  const h = await build(t, { gateway: { reconcileMs: 50, pruneIntervalMs: 50, retentionDays: 1 } })
  const [ada, bob] = [await h.createUser('Ada'), await h.createUser('Bob')]
  const roomId = await h.createRoom(ada, [bob])
  const other = await h.createRoom(ada, [bob])
  const gateway = h.gateways[0]!
  const roomSocket = connect(t, gateway, `/ws/chat/${roomId}/`, ada)
  const multi = connect(t, gateway, '/ws/', bob)
  multi.send({ type: 'ping', ref: 'p' })
  await roomSocket.next('subscribed')
  await multi.next('pong')
  await h.send(ada, roomId, 'before')
  await roomSocket.until(() => seqsOf(roomSocket, roomId).length === 1)

  // A gateway query in flight when the server goes (a subscribe's access check, held up by a lock on rooms):
  // pg emits 'error' on its checked-out client, which crashed the process.
  const locker = await createDb(h.databaseUrl, { poolSize: 2 })
  t.teardown(() => locker.destroy())
  let endLock = (): void => undefined
  const locking = locker.db
    .transaction()
    .execute(async (trx) => {
      await sql`lock table rooms in access exclusive mode`.execute(trx)
      await new Promise<void>((resolve) => {
        endLock = resolve
      })
    })
    .catch(() => undefined)
  await waitFor(async () => {
    const { rows } = await sql<{ locked: boolean }>`select exists (select 1 from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 'rooms' and l.mode = 'AccessExclusiveLock' and l.granted) as locked`.execute(locker.db)
    return rows[0]!.locked
  })
  const blocked = connect(t, gateway, '/ws/', bob)
  blocked.send({ type: 'subscribe', room_id: roomId, ref: 'blocked' })
  await waitFor(async () => {
    const { rows } = await sql<{ waiting: number }>`select count(*)::int as waiting from pg_stat_activity where wait_event_type = 'Lock'`.execute(locker.db)
    return rows[0]!.waiting > 0
  })
  await postgres.stop('immediate')
  endLock()
  await locking
  t.equal((await blocked.closed).code, 1011, 'the access check in flight fails: try again later')
  const late = connect(t, gateway, '/ws/', ada)
  t.equal((await late.closed).code, 1011, 'loading the user fails: try again later')
  multi.send({ type: 'subscribe', room_id: other, ref: 's' })
  t.equal((await multi.closed).code, 1011, 'the access check fails: try again later')
  // An event past a gap: the gap cannot be filled while the store is away.
  const event = { type: 'message.deleted', room_id: roomId, seq: 3, message_id: '0190a0a0-0000-7000-8000-000000000009' }
  await h.bus.publish(subjects.roomEvent(roomId, 'message.deleted'), Buffer.from(JSON.stringify(event)), {
    headers: { [envelopeHeaders.seq]: '3', [envelopeHeaders.type]: 'message.deleted' }
  })
  t.equal((await roomSocket.closed).code, 1011, 'a gap that cannot be filled: resume')
  // The reconciliation and the pruner run every 50 ms meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 500))

  await postgres.start()
  const again = connect(t, gateway, `/ws/chat/${roomId}/`, ada, { query: { after_seq: '0' } })
  await again.next('subscribed')
  t.same(seqsOf(again, roomId), [1], 'the store is back: a resume replays')
  await h.send(ada, roomId, 'after')
  await again.until(() => seqsOf(again, roomId).length === 2)
  t.same(unhandled, [], 'no unhandled rejection, no uncaught exception')
})

test('NATS goes away and comes back: sockets are answered, nothing crashes or leaks a rejection', async (t) => {
  const unhandled = trackUnhandled(t)
  const nats = await startNatsServer()
  t.teardown(() => nats.destroy())
  const h = await build(t, { transport: 'nats', natsUrl: nats.url, gateway: { reconcileMs: 100, joinTimeoutMs: 500, sendTimeoutMs: 500 } })
  const [ada, bob] = [await h.createUser('Ada'), await h.createUser('Bob')]
  const roomId = await h.createRoom(ada, [bob])
  const other = await h.createRoom(ada, [bob])
  const gateway = h.gateways[0]!
  const roomSocket = connect(t, gateway, `/ws/chat/${roomId}/`, ada)
  const multi = connect(t, gateway, '/ws/', bob)
  multi.send({ type: 'subscribe', room_id: roomId })
  await roomSocket.next('subscribed')
  await multi.next('subscribed')
  await h.send(ada, roomId, 'before')
  await roomSocket.until(() => seqsOf(roomSocket, roomId).length === 1)

  await nats.stop('SIGKILL')
  roomSocket.send({ type: 'typing' })
  roomSocket.send({ type: 'message', text: 'while NATS is down', ref: 'down' })
  t.match(await roomSocket.next('error', (frame) => frame.ref === 'down'), { code: 'unavailable', room_id: roomId }, 'a send is answered')
  multi.send({ type: 'subscribe', room_id: other, ref: 'o' })
  t.equal((await multi.closed).code, 1011, 'joining a room times out: try again later')

  await nats.start()
  await waitFor(() => gateway.bus.ping().then(() => true, () => false), 10_000)
  const again = connect(t, gateway, '/ws/', bob)
  again.send({ type: 'subscribe', room_id: other, after_seq: 0 })
  await again.next('subscribed')
  await h.send(ada, other, 'after')
  await again.until(() => seqsOf(again, other).length === 1)
  t.same(unhandled, [], 'no unhandled rejection, no uncaught exception')
})
