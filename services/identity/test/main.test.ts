import { fileURLToPath } from 'node:url'
import t from 'tap'
import { generateSigningKey } from '@chat/service-kit'
import { runToExit, startServiceOnTestDatabase } from '@chat/service-kit/testing'

const mainFile = fileURLToPath(new URL('../dist/main.js', import.meta.url))

t.test('main.ts: runs against PostgreSQL with a key from the environment, stops on SIGTERM', async (t) => {
  const key = generateSigningKey()
  // Orchestrators often hand PEM over with escaped newlines.
  const started = await startServiceOnTestDatabase(t, mainFile, (url) => ({ DATABASE_URL: url, JWT_PRIVATE_KEY: key.privateKeyPem.replaceAll('\n', '\\n') }))
  if (!started) return
  const { service } = started
  t.equal((await fetch(`${service.baseUrl}/readyz`)).status, 200)
  const registered = await fetch(`${service.baseUrl}/auth/register/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ display_name: 'Main', password: 'long enough' })
  })
  t.equal(registered.status, 201)
  const jwks = (await (await fetch(`${service.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }
  t.equal(jwks.keys[0]?.kid, key.kid, 'the configured key signs')
  service.child.kill('SIGTERM')
  t.equal(await service.exited, 0)
  t.notMatch(service.output(), /long enough|PRIVATE KEY/, 'no secret in the logs')
})

t.test('main.ts: a key that is not one stops it with one line naming the variable', async (t) => {
  const result = await runToExit(mainFile, { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', JWT_PRIVATE_KEY: 'not a pem' })
  t.equal(result.code, 1)
  t.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
  t.match(result.stderr, /^Invalid configuration: JWT_PRIVATE_KEY /)
})

t.test('main.ts: a missing key stops it with one line naming the variable', async (t) => {
  const result = await runToExit(mainFile, { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', JWT_PRIVATE_KEY: undefined })
  t.equal(result.code, 1)
  t.equal(result.stderr.trim().split('\n').length, 1)
  t.match(result.stderr, /JWT_PRIVATE_KEY/)
})

t.test('main.ts: a previous public key that is not one stops it with one line naming the variable', async (t) => {
  const key = generateSigningKey()
  const result = await runToExit(mainFile, {
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
    JWT_PRIVATE_KEY: key.privateKeyPem,
    JWT_PREVIOUS_PUBLIC_KEYS: 'not a pem'
  })
  t.equal(result.code, 1)
  t.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
  t.match(result.stderr, /^Invalid configuration: JWT_PREVIOUS_PUBLIC_KEYS /)
  t.notMatch(result.stderr, /PRIVATE KEY/, 'the private key is not echoed')
})
