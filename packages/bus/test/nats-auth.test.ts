// The NATS bus on servers that authenticate: credentials, the per-user inbox
// that narrow permissions rely on, permission violations (logged, never
// fatal, the bus goes on working) and TLS with client certificates. Needs
// nats-server (skipped without it unless REQUIRE_INFRA=1); the TLS part needs openssl.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { findNatsServer, startNatsServer, type NatsServerProcess } from '@chat/process-kit'
import { connectNatsBus, PublishRefusedError, type BusLogger, type BusMessage, type NatsBusOptions } from '../src/index.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const stream = { name: 'AUTH_EVENTS', subjects: ['t.events.>'] }

// writer: publishes events into the stream; server: answers t.req in queue q;
// reader: subscribes to events, requests t.req. Each reads only its own inbox.
const authConfig = `authorization {
  users = [
    { user: writer, password: $PW_WRITER, permissions: {
      publish: { allow: ["t.events.>", "$JS.API.INFO", "$JS.API.STREAM.INFO.AUTH_EVENTS", "$JS.API.STREAM.CREATE.AUTH_EVENTS", "$JS.API.STREAM.UPDATE.AUTH_EVENTS"] }
      subscribe: { allow: ["_INBOX.writer.>"] } } }
    { user: server, password: $PW_SERVER, permissions: {
      subscribe: { allow: ["_INBOX.server.>", "t.req q"] }
      allow_responses: true } }
    { user: reader, password: $PW_READER, permissions: {
      publish: { allow: ["t.req"] }
      subscribe: { allow: ["t.events.>", "_INBOX.reader.>"] } } }
  ]
}
`
const passwords = { writer: 'pwriter0', server: 'pserver0', reader: 'preader0' }
const serverEnv = { PW_WRITER: passwords.writer, PW_SERVER: passwords.server, PW_READER: passwords.reader }

interface Logged {
  level: 'info' | 'warn' | 'error'
  message: string
  fields: Record<string, unknown>
}
function recordingLogger(): BusLogger & { lines: Logged[] } {
  const lines: Logged[] = []
  const record = (level: Logged['level']) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, message, fields })
  return { lines, info: record('info'), warn: record('warn'), error: record('error') }
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((wake) => setTimeout(wake, 20))
  }
}

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'chat-bus-auth-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function authServer(t: Test, extraConfig = ''): Promise<NatsServerProcess> {
  const config = join(tempDir(t), 'nats.conf')
  writeFileSync(config, authConfig + extraConfig)
  const server = await startNatsServer({ args: ['-c', config], env: serverEnv })
  t.teardown(() => server.destroy())
  return server
}

if (!findNatsServer()) {
  if (process.env.REQUIRE_INFRA === '1') t.fail('nats-server is not installed (REQUIRE_INFRA=1)')
  else t.plan(0, 'nats-server is not installed')
} else {
  t.test('credentials: each user works within its rights, replies reach its own inbox', async (t) => {
    const server = await authServer(t)
    const open = async (user: keyof typeof passwords, extra: Partial<NatsBusOptions> = {}) => {
      const bus = await connectNatsBus({ url: server.url, stream, credentials: { user, password: passwords[user] }, manageStream: user === 'writer', ...extra })
      t.teardown(() => bus.close())
      return bus
    }
    const writer = await open('writer')
    const answering = await open('server')
    const reader = await open('reader')
    const received: BusMessage[] = []
    await reader.subscribe('t.events.>', (message) => void received.push(message))
    await answering.serve('t.req', (message) => bytes(`pong ${Buffer.from(message.data).toString()}`), { queue: 'q' })

    const stored = await writer.publish('t.events.one', bytes('1'), { msgId: 'one' })
    t.same(stored, { stored: true, duplicate: false }, 'the writer publishes into the stream; the ack comes to _INBOX.writer')
    await waitFor(() => received.length === 1)
    const reply = await reader.request('t.req', bytes('ping'))
    t.equal(Buffer.from(reply.data).toString(), 'pong ping', 'a request and its reply, through _INBOX.reader and allow_responses')
  })

  t.test('no credentials, or a wrong password: refused', async (t) => {
    const server = await authServer(t)
    await t.rejects(connectNatsBus({ url: server.url, stream, manageStream: false }), /Authorization Violation/i, 'without credentials')
    await t.rejects(
      connectNatsBus({ url: server.url, stream, manageStream: false, credentials: { user: 'reader', password: 'wrong' } }),
      /Authorization Violation/i,
      'with a wrong password'
    )
  })

  t.test('a permission violation is logged and the bus goes on working', async (t) => {
    const server = await authServer(t)
    const logger = recordingLogger()
    const handlerErrors: unknown[] = []
    const reader = await connectNatsBus({
      url: server.url,
      stream,
      manageStream: false,
      logger,
      onError: (error) => void handlerErrors.push(error),
      credentials: { user: 'reader', password: passwords.reader }
    })
    t.teardown(() => reader.close())
    const writer = await connectNatsBus({ url: server.url, stream, credentials: { user: 'writer', password: passwords.writer } })
    t.teardown(() => writer.close())
    const violations = () => logger.lines.filter((line) => line.message === 'NATS permissions violation')

    await t.rejects(reader.publish('t.events.forged', bytes('x'), { msgId: 'forged' }), /Permissions Violation for Publish to "t\.events\.forged"/, 'a refused stream publish rejects')
    await reader.publish('t.typing', bytes('x'))
    await reader.ping()
    await reader.subscribe('t.secret', () => {})
    await waitFor(() => violations().length >= 3)
    t.equal(reader.stats.publishFailures, 2, 'each refused publish counted once, the acknowledged one too')
    t.same(
      violations().map((line) => [line.level, line.fields.operation, line.fields.subject]),
      [['error', 'publish', 't.events.forged'], ['error', 'publish', 't.typing'], ['error', 'subscription', 't.secret']],
      'each refusal is an error line naming the operation and the subject'
    )
    await waitFor(() => handlerErrors.length === 1)
    t.match(String(handlerErrors[0]), /Permissions Violation for Subscription to "t\.secret"/, 'the refused subscription reports to onError')

    const received: BusMessage[] = []
    await reader.subscribe('t.events.>', (message) => void received.push(message))
    await writer.publish('t.events.after', bytes('2'))
    await waitFor(() => received.length === 1)
    t.equal(received[0]?.subject, 't.events.after', 'the same connection still receives what it may')
    await t.resolves(reader.ping(), 'and answers pings')
  })

  t.test("an unacknowledged publish the server refuses: flush rejects, so nothing is taken for delivered", async (t) => {
    const server = await authServer(t)
    const reader = await connectNatsBus({ url: server.url, stream, manageStream: false, logger: recordingLogger(), credentials: { user: 'reader', password: passwords.reader } })
    t.teardown(() => reader.close())
    const writer = await connectNatsBus({ url: server.url, stream, credentials: { user: 'writer', password: passwords.writer } })
    t.teardown(() => writer.close())

    await writer.publish('t.events.ok', bytes('1'), { msgId: 'ok', confirm: 'none' })
    await t.resolves(writer.flush(), 'what the writer may publish is confirmed')
    // Not awaited: the publisher asks for the flush in the same turn, so that the PING shares the write.
    const refused = reader.publish('t.events.forged', bytes('x'), { msgId: 'forged', confirm: 'none' })
    await t.rejects(reader.flush(), PublishRefusedError, 'a refused one is not confirmed')
    await refused
    t.equal(reader.stats.publishFailures, 1, 'and counted as a failed publish')
    await t.resolves(reader.flush(), 'the next flush confirms only what came after')
  })

  t.test('TLS: the CA given, a client certificate where the server verifies clients', async (t) => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' })
    } catch {
      if (process.env.REQUIRE_INFRA === '1') t.fail('openssl is not installed (REQUIRE_INFRA=1)')
      else t.plan(0, 'openssl is not installed')
      return
    }
    const dir = tempDir(t)
    const file = (name: string): string => join(dir, name)
    const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=chat test CA', '-keyout', 'ca-key.pem', '-out', 'ca.pem')
    writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
    for (const [name, subject, ext] of [['server', '/CN=127.0.0.1', ['-extfile', 'server.ext']], ['client', '/CN=rooms', []]] as const) {
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', subject, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`)
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-out', `${name}.pem`, ...ext)
    }
    const tlsBlock = `tls { cert_file: "${file('server.pem')}", key_file: "${file('server-key.pem')}", ca_file: "${file('ca.pem')}", verify: true }\n`
    const server = await authServer(t, tlsBlock)
    const credentials = { user: 'writer', password: passwords.writer }
    const bus = await connectNatsBus({ url: server.url, stream, credentials, tls: { caFile: file('ca.pem'), certFile: file('client.pem'), keyFile: file('client-key.pem') } })
    t.teardown(() => bus.close())
    t.same(await bus.publish('t.events.tls', bytes('1')), { stored: true, duplicate: false }, 'connected over TLS with the client certificate')
    // TLS 1.2, so that the refusal comes within the handshake: under 1.3 the
    // client hears of it only after the handshake, and nats.js then waits out
    // its 20 s connect timeout.
    const withoutClientCertificate = { caFile: file('ca.pem'), maxVersion: 'TLSv1.2' } as NatsBusOptions['tls']
    await t.rejects(connectNatsBus({ url: server.url, stream, credentials, tls: withoutClientCertificate }), 'without a client certificate: refused')
    await t.rejects(connectNatsBus({ url: server.url, stream, credentials }), 'without the CA: the server certificate is not trusted')
  })
}
