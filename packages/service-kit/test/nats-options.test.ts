import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Type } from 'typebox'
import { ConfigError, commonConfig, databaseConfig, loadConfig, natsBusOptions, natsConfig } from '../src/index.js'
import { silentLogger } from '../src/testing.js'

const Schema = Type.Object({ ...commonConfig, ...databaseConfig, ...natsConfig })
const load = (env: NodeJS.ProcessEnv) => loadConfig(Schema, { DATABASE_URL: 'postgres://localhost/chat', ...env })

const refusal = (read: () => unknown): ConfigError | undefined => {
  try {
    read()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  return undefined
}

t.test('without credentials or TLS: the options of before', async (t) => {
  const options = natsBusOptions(load({}), 'rooms', silentLogger)
  t.equal(options.url, 'nats://127.0.0.1:4222')
  t.notOk('credentials' in options, 'no credentials')
  t.notOk('tls' in options, 'no TLS')
  t.equal(options.manageStream, true)
  t.equal(natsBusOptions(load({}), 'realtime', silentLogger, 'reader').manageStream, false)
})

t.test('NATS_USER and NATS_PASSWORD become the credentials; half a pair is refused', async (t) => {
  const options = natsBusOptions(load({ NATS_USER: 'rooms', NATS_PASSWORD: 'p0123456789' }), 'rooms', silentLogger)
  t.same(options.credentials, { user: 'rooms', password: 'p0123456789' })
  t.equal(refusal(() => natsBusOptions(load({ NATS_USER: 'rooms' }), 'rooms', silentLogger))?.variable, 'NATS_PASSWORD')
  t.equal(refusal(() => natsBusOptions(load({ NATS_PASSWORD: 'p0123456789' }), 'rooms', silentLogger))?.variable, 'NATS_USER')
  t.equal(refusal(() => load({ NATS_USER: 'rooms.admin' }))?.variable, 'NATS_USER', 'a user name that is no subject token (its inbox is _INBOX.<user>)')
})

t.test('TLS files: CA alone, or with a client certificate and key; unreadable ones are refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-nats-tls-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const name of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, name), 'x')
  const ca = join(dir, 'ca.pem')
  t.same(natsBusOptions(load({ NATS_TLS_CA: ca }), 'rooms', silentLogger).tls, { caFile: ca })
  t.same(natsBusOptions(load({ NATS_TLS_CA: ca, NATS_TLS_CERT: join(dir, 'cert.pem'), NATS_TLS_KEY: join(dir, 'key.pem') }), 'rooms', silentLogger).tls, {
    caFile: ca,
    certFile: join(dir, 'cert.pem'),
    keyFile: join(dir, 'key.pem')
  })
  t.equal(refusal(() => natsBusOptions(load({ NATS_TLS_CERT: join(dir, 'cert.pem') }), 'rooms', silentLogger))?.variable, 'NATS_TLS_KEY')
  const missing = refusal(() => natsBusOptions(load({ NATS_TLS_CA: join(dir, 'nope.pem') }), 'rooms', silentLogger))
  t.equal(missing?.variable, 'NATS_TLS_CA')
  t.match(missing?.message, /not a readable file \(ENOENT\)/)
})

t.test('a refused secret is named, never echoed', async (t) => {
  const short = refusal(() => load({ METRICS_TOKEN: 'short-secret' }))
  t.equal(short?.variable, 'METRICS_TOKEN')
  t.notMatch(short?.message, /short-secret/)
  const url = refusal(() => load({ DATABASE_URL: 'mysql://chat:hunter2@db/chat' }))
  t.equal(url?.variable, 'DATABASE_URL')
  t.notMatch(url?.message, /hunter2/)
  t.match(refusal(() => load({ NATS_STREAM_REPLICAS: '9' }))?.message, /\(got "9"\)|\(got 9\)/, 'other values are still shown')
})
