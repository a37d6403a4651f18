// The NATS bus against nats-servers of its own: a service started while NATS
// is down waits for it; the stream's limits are applied on create and when
// they change; a cluster of three keeps a three-replica stream writable with
// one node killed. Needs nats-server (skipped without it unless REQUIRE_INFRA=1).
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { findNatsServer, freePort, startNatsCluster, startNatsServer } from '@chat/process-kit'
import { connectNatsBus } from '../src/index.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

if (!findNatsServer()) {
  if (process.env.REQUIRE_INFRA === '1') t.fail('nats-server is not installed (REQUIRE_INFRA=1)')
  else t.plan(0, 'nats-server is not installed')
} else {
  t.test('a bus started before its server waits for it, logging each attempt', async (t) => {
    const port = await freePort()
    const warnings: string[] = []
    const logger = { info: () => {}, error: () => {}, warn: (_: Record<string, unknown>, message: string) => void warnings.push(message) }
    let connected = false
    const connecting = connectNatsBus({ url: `nats://127.0.0.1:${port}`, name: 'late', logger, waitForServer: true }).then((bus) => {
      connected = true
      return bus
    })
    await new Promise((wake) => setTimeout(wake, 1_500))
    t.notOk(connected, 'still waiting while nothing listens')
    t.ok(warnings.length >= 1, 'each failed attempt is logged')
    const server = await startNatsServer({ port })
    t.teardown(() => server.destroy())
    const bus = await connecting
    t.teardown(() => bus.close())
    const stored = await bus.publish('chat.room.r1.message.created', bytes('{}'), { msgId: 'r1:1' })
    t.equal(stored.stored, true, 'then it publishes into the stream it made')
  })

  t.test('stream limits: set when created, applied again when they differ', async (t) => {
    const server = await startNatsServer()
    t.teardown(() => server.destroy())
    const name = `LIMITS_${randomBytes(3).toString('hex')}`
    const stream = { name, subjects: ['limits.>'] }
    const first = await connectNatsBus({ url: server.url, stream, limits: { maxAgeMs: 3_600_000, maxBytes: 1_048_576, replicas: 1 } })
    await first.close()
    const admin = await connect({ servers: server.url })
    t.teardown(() => admin.close())
    const jsm = await jetstreamManager(admin)
    let info = await jsm.streams.info(name)
    t.match(info.config, { max_age: 3_600_000 * 1_000_000, max_bytes: 1_048_576, num_replicas: 1, discard: 'old' }, 'created with the limits')
    const warnings: Array<Record<string, unknown>> = []
    const logger = { info: () => {}, error: () => {}, warn: (fields: Record<string, unknown>) => void warnings.push(fields) }
    const second = await connectNatsBus({ url: server.url, stream, logger, limits: { maxAgeMs: 7_200_000, maxBytes: 2_097_152, replicas: 1 } })
    await second.close()
    info = await jsm.streams.info(name)
    t.match(info.config, { max_age: 7_200_000 * 1_000_000, max_bytes: 2_097_152 }, 'changed limits are applied on the next start')
    t.match(warnings[0], { to: { max_age: 7_200_000 * 1_000_000, max_bytes: 2_097_152 } }, 'and the change is logged')
    const third = await connectNatsBus({ url: server.url, stream, manageStream: false, limits: { maxAgeMs: 60_000 } })
    await third.close()
    info = await jsm.streams.info(name)
    t.equal(info.config.max_age, 7_200_000 * 1_000_000, 'a reader (manageStream: false) leaves the stream alone')
  })

  t.test('a three-node cluster keeps a three-replica stream writable with one node killed', async (t) => {
    const cluster = await startNatsCluster()
    t.teardown(() => cluster.destroy())
    const name = `CLUSTER_${randomBytes(3).toString('hex')}`
    const bus = await connectNatsBus({ url: cluster.url, stream: { name, subjects: ['cluster.>'] }, limits: { replicas: 3 }, waitForServer: true })
    t.teardown(() => bus.close())
    const admin = await connect({ servers: cluster.url.split(',') })
    t.teardown(() => admin.close())
    const jsm = await jetstreamManager(admin)
    t.equal((await jsm.streams.info(name)).config.num_replicas, 3, 'three replicas')
    await bus.publish('cluster.a', bytes('1'), { msgId: 'a:1' })
    await cluster.servers[0]!.stop('SIGKILL')
    let stored = false
    for (let attempt = 0; attempt < 40 && !stored; attempt++) {
      // A leader on the killed node is replaced within seconds.
      stored = await bus.publish('cluster.a', bytes('2'), { msgId: 'a:2' }).then((result) => result.stored, () => false)
      if (!stored) await new Promise((wake) => setTimeout(wake, 500))
    }
    t.ok(stored, 'a publish is stored with one node down')
    t.equal((await jsm.streams.info(name)).state.messages, 2, 'both messages are in the stream')
  })
}
