// deploy/nats/permissions.conf, the file every deployment ships, on a real
// nats-server: nobody gets in without a password; each service's user is
// refused every subject the table below does not give it (publish and
// subscribe); what each service does works through the services' own
// connection code; and a service given rights narrower than its code logs
// the violation and keeps running. Needs nats-server (skipped without it
// unless REQUIRE_INFRA=1); the last part PostgreSQL too.
import t, { type Test } from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { connectNatsBus, type BusMessage, type NatsBus } from '@chat/bus'
import { roomEventTypes, type RoomEventType } from '@chat/contracts'
import { createTestDatabase } from '@chat/db/testing'
import { ManagedProcess, findNatsServer, freePort, startNatsServer, waitHttpOk } from '@chat/process-kit'
import { natsBusOptions } from '@chat/service-kit'
import { NATS_USER_NAMES, PERMISSIONS_CONF, generateNatsPassword, natsServerEnv, type NatsUser } from '../../../deploy/nats/permissions.js'
import { REPO_ROOT } from '../../../deploy/start-services.js'

const ROOM = '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f'
const services = ['rooms', 'messages', 'reactions', 'realtime'] as const

// The spec, written out by hand rather than read from deploy/nats/permissions.ts.
const writerOf: Record<RoomEventType, NatsUser> = {
  'participants.added': 'rooms',
  'participants.removed': 'rooms',
  'participants.updated': 'rooms',
  'room.updated': 'rooms',
  'message.created': 'messages',
  'message.updated': 'messages',
  'message.deleted': 'messages',
  'reaction.updated': 'reactions'
}
const writers: NatsUser[] = ['rooms', 'messages', 'reactions']
const publishProbes: Array<[subject: string, allowed: NatsUser[]]> = [
  ['svc.messages.send', ['realtime']],
  ...roomEventTypes.map((type): [string, NatsUser[]] => [`chat.room.${ROOM}.${type}`, [writerOf[type]]]),
  [`chat.room.${ROOM}.typing`, ['realtime']],
  [`chat.room.${ROOM}.read`, ['rooms']],
  ['chat.presence.update', ['realtime']],
  ['chat.presence.sync', ['rooms', 'realtime', 'identity']],
  ['chat.presence.other', []],
  [`chat.user.${ROOM}.mention`, ['messages']],
  [`chat.user.${ROOM}.other`, []],
  ['$JS.API.INFO', writers],
  ['$JS.API.STREAM.INFO.CHAT_EVENTS', writers],
  ['$JS.API.STREAM.CREATE.CHAT_EVENTS', writers],
  ['$JS.API.STREAM.UPDATE.CHAT_EVENTS', writers],
  ['$JS.API.STREAM.DELETE.CHAT_EVENTS', []],
  ['$JS.API.STREAM.PURGE.CHAT_EVENTS', []],
  ['$JS.API.STREAM.MSG.DELETE.CHAT_EVENTS', []],
  ['$JS.API.CONSUMER.CREATE.CHAT_EVENTS', []],
  ['$JS.API.STREAM.CREATE.OTHER', []],
  // messages answers the gateways' requests into their inbox; nobody else writes into another's inbox.
  ...services.map((user): [string, NatsUser[]] => [`_INBOX.${user}.forged`, user === 'realtime' ? ['messages'] : []]),
  ['chat.other', []]
]
const subscribeProbes: Array<[subject: string, queue: string | undefined, allowed: NatsUser[]]> = [
  ['chat.room.>', undefined, ['realtime']],
  [`chat.room.${ROOM}.>`, undefined, ['realtime']],
  ['chat.room.*.participants.added', undefined, ['realtime']],
  ['chat.user.*.mention', undefined, ['realtime']],
  ['chat.user.>', undefined, []],
  ['chat.presence.update', undefined, ['rooms', 'realtime', 'identity']],
  ['chat.presence.sync', undefined, ['realtime']],
  ['chat.presence.>', undefined, []],
  ['svc.messages.send', undefined, []],
  ['svc.messages.send', 'messages', ['messages']],
  ['svc.messages.send', 'other', []],
  ['svc.>', undefined, []],
  ...services.map((user): [string, string | undefined, NatsUser[]] => [`_INBOX.${user}.>`, undefined, [user]]),
  ['_INBOX.>', undefined, []],
  ['$JS.API.>', undefined, []],
  ['>', undefined, []]
]

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const tick = (): Promise<void> => new Promise((wake) => setImmediate(wake))

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((wake) => setTimeout(wake, 25))
  }
}

function recordingLogger(): { lines: Array<{ level: string; message: string; fields: Record<string, unknown> }>; info: Log; warn: Log; error: Log } {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = []
  const record = (level: string): Log => (fields, message) => void lines.push({ level, message, fields })
  return { lines, info: record('info'), warn: record('warn'), error: record('error') }
}
type Log = (fields: Record<string, unknown>, message: string) => void

if (!findNatsServer()) {
  if (process.env.REQUIRE_INFRA === '1') t.fail('nats-server is not installed (REQUIRE_INFRA=1)')
  else t.plan(0, 'nats-server is not installed')
} else {
  const passwords = Object.fromEntries(NATS_USER_NAMES.map((user) => [user, generateNatsPassword()])) as Record<NatsUser, string>
  const server = await startNatsServer({ args: ['-c', PERMISSIONS_CONF], env: natsServerEnv(passwords) })
  t.teardown(() => server.destroy())

  /** A connection as `user`, through the services' own code (natsBusOptions, connectNatsBus). */
  const connectAs = async (t: Test, user: NatsUser, settings: { writer?: boolean; logger?: ReturnType<typeof recordingLogger>; maxAgeHours?: number } = {}): Promise<NatsBus> => {
    const config = { NATS_URL: server.url, NATS_STREAM_REPLICAS: 1, NATS_STREAM_MAX_AGE_HOURS: settings.maxAgeHours ?? 168, NATS_STREAM_MAX_BYTES: -1, NATS_USER: user, NATS_PASSWORD: passwords[user] }
    const options = natsBusOptions(config, `${user}-test`, settings.logger ?? recordingLogger(), settings.writer ? 'writer' : 'reader')
    const bus = await connectNatsBus({ ...options, waitForServer: false })
    t.teardown(() => bus.close())
    return bus
  }

  t.test('nobody gets in without its password', async (t) => {
    const attempt = (credentials?: { user: string; password: string }) =>
      connectNatsBus({ url: server.url, manageStream: false, ...(credentials ? { credentials } : {}) })
    await t.rejects(attempt(), /Authorization Violation/i, 'no credentials')
    await t.rejects(attempt({ user: 'realtime', password: 'wrong' }), /Authorization Violation/i, 'a wrong password')
    await t.rejects(attempt({ user: 'realtime', password: passwords.rooms }), /Authorization Violation/i, "another user's password")
    await t.rejects(attempt({ user: 'identity', password: passwords.rooms }), /Authorization Violation/i, 'identity has no NATS user')
  })

  t.test("each service's user: refused every subject it has no right to, allowed the others", async (t) => {
    for (const user of [...services, 'identity', 'admin'] as NatsUser[]) {
      const nc = (await connectAs(t, user)).connection
      const refused: Array<{ operation: string; subject: string; queue?: string }> = []
      void (async () => {
        for await (const status of nc.status()) {
          if (status.type === 'error' && 'operation' in status.error) refused.push(status.error as unknown as (typeof refused)[number])
        }
      })()
      for (const [subject, allowed] of publishProbes) {
        nc.publish(subject, bytes('probe'))
        await nc.flush()
        await tick()
        const wasRefused = refused.some((error) => error.operation === 'publish' && error.subject === subject)
        t.equal(!wasRefused, user === 'admin' || allowed.includes(user), `${user} ${allowed.includes(user) || user === 'admin' ? 'may' : 'may not'} publish ${subject}`)
      }
      for (const [subject, queue, allowed] of subscribeProbes) {
        const subscription = nc.subscribe(subject, queue ? { queue } : {})
        await nc.flush()
        await tick()
        const wasRefused = subscription.isClosed()
        if (!wasRefused) subscription.unsubscribe()
        const may = user === 'admin' || allowed.includes(user)
        t.equal(!wasRefused, may, `${user} ${may ? 'may' : 'may not'} subscribe to ${subject}${queue ? ` in queue ${queue}` : ''}`)
      }
    }
  })

  t.test('what each service does works with its own user', async (t) => {
    const logger = recordingLogger()
    // rooms creates the stream, messages finds it and changes its age limit, reactions finds it as it is.
    const rooms = await connectAs(t, 'rooms', { writer: true, logger })
    const messages = await connectAs(t, 'messages', { writer: true, logger, maxAgeHours: 24 })
    const reactions = await connectAs(t, 'reactions', { writer: true, logger, maxAgeHours: 24 })
    t.ok(logger.lines.some((line) => line.message === 'created JetStream stream'), 'rooms created CHAT_EVENTS')
    t.ok(logger.lines.some((line) => line.message === 'updated JetStream stream settings'), 'messages updated its settings')
    const gateways = [await connectAs(t, 'realtime', { logger }), await connectAs(t, 'realtime', { logger })]
    const received: BusMessage[][] = [[], []]
    const joins: BusMessage[] = []
    for (const [index, gateway] of gateways.entries()) await gateway.subscribe(`chat.room.${ROOM}.>`, (message) => void received[index]!.push(message))
    await gateways[0]!.subscribe('chat.room.*.participants.added', (message) => void joins.push(message))

    const buses: Record<string, NatsBus> = { rooms, messages, reactions }
    for (const [index, type] of roomEventTypes.entries()) {
      const result = await buses[writerOf[type]]!.publish(`chat.room.${ROOM}.${type}`, bytes(type), { msgId: `${ROOM}:${index + 1}` })
      t.same(result, { stored: true, duplicate: false }, `${writerOf[type]} stores ${type} in CHAT_EVENTS (ack through its inbox)`)
    }
    await gateways[0]!.publish(`chat.room.${ROOM}.typing`, bytes('typing'))
    await waitFor(() => received.every((list) => list.length === roomEventTypes.length + 1))
    t.same(received[1]!.map((message) => message.subject.split('.').slice(3).join('.')), [...roomEventTypes, 'typing'], 'every gateway gets every event and the typing notice')
    t.equal(joins.length, 1, 'and participants.added of every room')
    const mentions: BusMessage[] = []
    await gateways[1]!.subscribe('chat.user.*.mention', (message) => void mentions.push(message))
    await messages.publish(`chat.user.${ROOM}.mention`, bytes('mention'))
    await waitFor(() => mentions.length === 1)
    t.equal(mentions[0]?.subject, `chat.user.${ROOM}.mention`, 'messages tells the gateways of a mention (core NATS)')

    await messages.serve('svc.messages.send', (request) => bytes(`stored ${Buffer.from(request.data).toString()}`), { queue: 'messages' })
    const reply = await gateways[1]!.request('svc.messages.send', bytes('hello'))
    t.equal(Buffer.from(reply.data).toString(), 'stored hello', 'a gateway requests svc.messages.send, messages answers (queue group messages)')

    // Presence: a tracker starting (rooms) asks the gateways for their lists; a gateway publishes its users; both hear it.
    const syncs: BusMessage[] = []
    const identity = await connectAs(t, 'identity', { logger })
    const updates: BusMessage[][] = [[], [], []]
    await gateways[0]!.subscribe('chat.presence.sync', (message) => void syncs.push(message))
    await gateways[1]!.subscribe('chat.presence.update', (message) => void updates[0]!.push(message))
    await rooms.subscribe('chat.presence.update', (message) => void updates[1]!.push(message))
    await identity.subscribe('chat.presence.update', (message) => void updates[2]!.push(message))
    await rooms.publish('chat.presence.sync', bytes(''))
    await identity.publish('chat.presence.sync', bytes(''))
    await waitFor(() => syncs.length === 2)
    await gateways[0]!.publish('chat.presence.update', bytes('{}'))
    await waitFor(() => updates.every((list) => list.length === 1))
    t.pass('rooms and identity ask for presence; a gateway publishes it; gateways, rooms and identity hear it (core NATS)')
    // Read receipts: rooms publishes, every gateway watching the room hears it.
    await rooms.publish(`chat.room.${ROOM}.read`, bytes('read'))
    await waitFor(() => received.every((list) => list.some((message) => message.subject.endsWith('.read'))))
    t.pass('rooms publishes a read receipt; every gateway gets it')

    t.same(logger.lines.filter((line) => line.level === 'error'), [], 'no permissions violation, nothing else failed')
  })

  t.test('a service whose user lacks a right logs the violation and keeps running', async (t) => {
    // messages connecting as rooms: it may not serve svc.messages.send.
    const database = await createTestDatabase(t)
    const port = await freePort(21_000 + ((process.pid * 37) % 500) * 10)
    const { publicKey } = generateKeyPairSync('ed25519')
    const lines: string[] = []
    const child = new ManagedProcess(
      {
        name: 'messages',
        command: process.execPath,
        args: [`${REPO_ROOT}services/messages/dist/main.js`],
        env: {
          PATH: process.env.PATH,
          PORT: String(port),
          DATABASE_URL: database.url,
          NATS_URL: server.url,
          NATS_USER: 'rooms',
          NATS_PASSWORD: passwords.rooms,
          JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          LOG_LEVEL: 'info'
        }
      },
      (line) => void lines.push(line)
    )
    t.teardown(() => child.kill())
    child.start()
    await waitHttpOk(`http://127.0.0.1:${port}/readyz`, { process: child, timeoutMs: 60_000 })
    await waitFor(() => lines.some((line) => line.includes('NATS permissions violation')))
    // Before the app exists the startup logger writes to stderr (message, then the fields), after it pino JSON.
    const from = lines.findIndex((line) => line.includes('NATS permissions violation'))
    const entry = lines.slice(from, from + 30).join('\n')
    t.match(entry, /subscription/, 'an error line names the refused operation')
    t.match(entry, /svc\.messages\.send/, 'and its subject')
    t.notOk(lines.some((line) => line.includes(passwords.rooms)), 'the password is in no log line')
    await new Promise((wake) => setTimeout(wake, 1_000))
    t.ok(child.running, 'the process is still running')
    t.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200, 'and ready')
  })
}
