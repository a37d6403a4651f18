import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'
import { nanos, type NatsConnection } from '@nats-io/nats-core'
import { connectNatsBus, type NatsBus } from '../src/index.js'
import { runBusContract } from './bus-contract.js'

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const runId = randomBytes(4).toString('hex')
const prefix = `test.${runId}.`
const streamName = `TEST_${runId}`

async function tryConnect(): Promise<NatsConnection | undefined> {
  try {
    return await connect({ servers: url, reconnect: false, timeout: 2_000 })
  } catch {
    return undefined
  }
}

const admin = await tryConnect()

if (!admin) {
  if (process.env.REQUIRE_INFRA === '1') {
    t.fail(`NATS not reachable at ${url} (REQUIRE_INFRA=1)`)
  } else {
    t.plan(0, `NATS not reachable at ${url}; skipped (set REQUIRE_INFRA=1 to fail instead)`)
  }
} else {
  const jsm = await jetstreamManager(admin)
  const created = new Set<string>([streamName])
  t.teardown(async () => {
    for (const name of created) await jsm.streams.delete(name).catch(() => false)
    await admin.close()
  })

  const open = (t: Test, name: string, subjects: string[]): Promise<NatsBus> => {
    created.add(name)
    return connectNatsBus({ url, name: `bus-test-${runId}`, stream: { name, subjects } }).then((bus) => {
      t.teardown(() => bus.close())
      return bus
    })
  }

  t.test('NATS bus contract', async (t) => {
    runBusContract(t, {
      prefix,
      makeBus: (options) => connectNatsBus({ url, stream: { name: streamName, subjects: [`${prefix}s.>`] }, onError: options?.onError })
    })
  })

  t.test('creates the stream when missing; a second connect reuses it', async (t) => {
    const name = `TEST_${runId}_CREATE`
    const subjects = [`${prefix}create.*.message.>`, `${prefix}create.*.room.>`]
    const missing = await jsm.streams.info(name).then(() => undefined, (e: unknown) => e)
    t.ok(missing instanceof JetStreamApiError && missing.code === JetStreamApiCodes.StreamNotFound, 'not there before')
    const first = await open(t, name, subjects)
    const info = await jsm.streams.info(name)
    t.same([...(info.config.subjects ?? [])].sort(), [...subjects].sort())
    t.equal(info.config.storage, 'file')
    t.equal(info.config.duplicate_window, nanos(120_000))
    t.equal(first.streamName, name)
    const second = await open(t, name, subjects)
    t.equal((await jsm.streams.info(name)).state.messages, 0)
    // Two connections see each other's events.
    let got: string | undefined
    const received = new Promise<void>((resolve) => {
      void first.subscribe(`${prefix}create.r1.message.>`, (m) => { got = m.subject; resolve() })
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.same(await second.publish(`${prefix}create.r1.message.created`, new Uint8Array([1]), { msgId: 'r1:1' }), { stored: true, duplicate: false })
    await received
    t.equal(got, `${prefix}create.r1.message.created`)
    t.equal((await jsm.streams.info(name)).state.messages, 1)
  })

  t.test('concurrent creators of the same stream all connect', async (t) => {
    const name = `TEST_${runId}_RACE`
    const subjects = [`${prefix}race.>`]
    const buses = await Promise.all(Array.from({ length: 4 }, () => open(t, name, subjects)))
    t.equal(buses.length, 4)
    t.same((await jsm.streams.info(name)).config.subjects, subjects)
  })

  t.test('updates the stream subjects when they differ', async (t) => {
    const name = `TEST_${runId}_UPDATE`
    created.add(name)
    await jsm.streams.add({ name, subjects: [`${prefix}old.>`], duplicate_window: nanos(120_000) })
    await open(t, name, [`${prefix}new.a.>`, `${prefix}new.b.>`])
    t.same([...((await jsm.streams.info(name)).config.subjects ?? [])].sort(), [`${prefix}new.a.>`, `${prefix}new.b.>`])
  })

  t.test('a duplicate publish is not stored twice', async (t) => {
    const name = `TEST_${runId}_DUP`
    const bus = await open(t, name, [`${prefix}dup.>`])
    const subject = `${prefix}dup.r1.message.created`
    const data = new TextEncoder().encode('{}')
    t.same(await bus.publish(subject, data, { msgId: 'r1:7' }), { stored: true, duplicate: false })
    t.same(await bus.publish(subject, data, { msgId: 'r1:7' }), { stored: true, duplicate: true })
    t.equal((await jsm.streams.info(name)).state.messages, 1, 'one stored message')
    await bus.publish(subject, data, { msgId: 'r1:8' })
    t.equal((await jsm.streams.info(name)).state.messages, 2)
    // Core subjects outside the stream are never stored.
    t.same(await bus.publish(`${prefix}dupcore.typing`, data, { msgId: 'r1:9' }), { stored: false, duplicate: false })
    t.equal((await jsm.streams.info(name)).state.messages, 2)
  })

  t.test("confirm: 'none' on a stream subject: stored without an acknowledgement, de-duplicated by msgId, confirmed by flush", async (t) => {
    const name = `TEST_${runId}_NOACK`
    const bus = await open(t, name, [`${prefix}noack.>`])
    const subject = `${prefix}noack.r1.message.created`
    const data = new TextEncoder().encode('{}')
    for (const msgId of ['r1:1', 'r1:2', 'r1:1', 'r1:3']) {
      t.same(await bus.publish(subject, data, { msgId, confirm: 'none' }), { stored: false, duplicate: false }, `${msgId}: nothing is known yet`)
    }
    await bus.flush()
    // The server has them all; the stream stores on its own schedule, so look until it has.
    let stored = 0
    for (let tries = 0; tries < 50 && stored < 3; tries++) {
      stored = (await jsm.streams.info(name)).state.messages
      if (stored < 3) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    t.equal(stored, 3, 'three stored: the repeated msg id was dropped by the stream')
    t.same(await bus.publish(subject, data, { msgId: 'r1:3' }), { stored: true, duplicate: true }, 'an acknowledged repeat of an unacknowledged one is a duplicate')
  })

  t.test('exposes the raw connection', async (t) => {
    const bus = await open(t, streamName, [`${prefix}s.>`])
    t.equal(bus.connection.isClosed(), false)
    t.ok(await bus.connection.rtt() >= 0)
  })

  t.test('logs stream changes and handler failures through the logger', async (t) => {
    const lines: Array<{ level: string; message: string; object: Record<string, unknown> }> = []
    const log = (level: string) => (object: Record<string, unknown>, message: string) => { lines.push({ level, message, object }) }
    const logger = { info: log('info'), warn: log('warn'), error: log('error') }
    const name = `TEST_${runId}_LOG`
    created.add(name)
    const first = await connectNatsBus({ url, logger, stream: { name, subjects: [`${prefix}log.a.>`] } })
    t.teardown(() => first.close())
    const bus = await connectNatsBus({ url, logger, stream: { name, subjects: [`${prefix}log.b.>`] } })
    t.teardown(() => bus.close())
    const failed = new Promise<void>((resolve) => {
      void bus.subscribe(`${prefix}log.fail`, () => { resolve(); throw new Error('handler broke') })
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    await bus.publish(`${prefix}log.fail`, new Uint8Array())
    await failed
    await bus.ping()
    t.match(lines, [
      { level: 'info', message: 'created JetStream stream', object: { stream: name } },
      { level: 'warn', message: 'updated JetStream stream settings', object: { to: { subjects: [`${prefix}log.b.>`] } } },
      { level: 'error', message: 'bus handler failed', object: { err: { message: 'handler broke' }, kind: 'subscribe' } }
    ])
  })

  t.test('connect fails for an unreachable server', async (t) => {
    await t.rejects(connectNatsBus({ url: 'nats://127.0.0.1:1', stream: { name: `TEST_${runId}_X`, subjects: [`${prefix}x.>`] } }))
  })

}
