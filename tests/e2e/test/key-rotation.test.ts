// Signing-key rotation under running services, as deploy/README.md tells
// operators to do it: identity restarted with a new key and the previous one
// still published, then without the previous one. Two rooms processes verify
// through the JWKS all along: one with a long cache lifetime (a new key must
// be fetched because its kid is unknown, not because the cache went stale),
// one with a short lifetime (a removed key must stop verifying within it).
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTestDatabase } from '@chat/db/testing'
import { freePort } from '@chat/process-kit'
import { generateSigningKey, type SigningKey } from '@chat/service-kit'
import { startServiceProcess, waitFor, type RunningService } from '@chat/service-kit/testing'

const identityMain = fileURLToPath(new URL('../../../services/identity/dist/main.js', import.meta.url))
const roomsMain = fileURLToPath(new URL('../../../services/rooms/dist/main.js', import.meta.url))
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

function kidOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid
}

t.test('a rotated key under running services: old tokens until removal, new tokens at once, a removed key gone within the cache lifetime', async (t) => {
  const { url, kind } = await createTestDatabase(t)
  if (kind !== 'postgres') {
    t.skip('separate processes need PostgreSQL', () => {})
    return
  }
  // One port for every identity process, so that the JWKS URL the verifiers know stays right.
  const identityPort = await freePort()
  const jwksUrl = `http://127.0.0.1:${identityPort}/.well-known/jwks.json`
  const running: RunningService[] = []
  t.teardown(() => { for (const service of running) service.child.kill('SIGKILL') })
  const start = async (mainFile: string, env: Record<string, string>): Promise<RunningService> => {
    const service = await startServiceProcess(mainFile, { DATABASE_URL: url, ...env })
    running.push(service)
    return service
  }
  const startIdentity = (key: SigningKey, previous: SigningKey[] = []) =>
    start(identityMain, {
      PORT: String(identityPort),
      JWT_PRIVATE_KEY: key.privateKeyPem,
      JWT_PREVIOUS_PUBLIC_KEYS: previous.map((old) => old.publicKeyPem).join('')
    })
  const stop = async (service: RunningService) => {
    service.child.kill('SIGTERM')
    t.equal(await service.exited, 0, 'identity stops cleanly')
  }

  const oldKey = generateSigningKey()
  const newKey = generateSigningKey()
  let identity = await startIdentity(oldKey)
  const cacheSeconds = 3
  // Cooldown 0: an unknown kid refetches at once (the default 10 s only limits how often).
  const longCache = await start(roomsMain, { NATS_URL: natsUrl, JWKS_URL: jwksUrl, JWKS_CACHE_SECONDS: '3600', JWKS_COOLDOWN_SECONDS: '0' })
  const shortCache = await start(roomsMain, { NATS_URL: natsUrl, JWKS_URL: jwksUrl, JWKS_CACHE_SECONDS: String(cacheSeconds), JWKS_COOLDOWN_SECONDS: '0' })
  const roomsStatus = async (rooms: RunningService, token: string) =>
    (await fetch(`${rooms.baseUrl}/chatrooms/`, { headers: { authorization: `Bearer ${token}` } })).status

  const registered = await fetch(`http://127.0.0.1:${identityPort}/auth/register/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ display_name: 'Rotor', password: 'long enough password' })
  })
  t.equal(registered.status, 201)
  const oldToken = ((await registered.json()) as { access_token: string }).access_token
  t.equal(kidOf(oldToken), oldKey.kid)
  t.equal(await roomsStatus(longCache, oldToken), 200, 'the old key verifies before the rotation')
  t.equal(await roomsStatus(shortCache, oldToken), 200)

  // Rotation: the new key signs, the old one is still published.
  await stop(identity)
  identity = await startIdentity(newKey, [oldKey])
  const login = async () => {
    const response = await fetch(`http://127.0.0.1:${identityPort}/auth/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ display_name: 'Rotor', password: 'long enough password' })
    })
    t.equal(response.status, 200)
    return ((await response.json()) as { access_token: string }).access_token
  }
  const newToken = await login()
  t.equal(kidOf(newToken), newKey.kid, 'the new key signs')
  t.equal(await roomsStatus(longCache, newToken), 200, 'a new token works at once where the key set was fresh (unknown kid: refetched)')
  t.equal(await roomsStatus(shortCache, newToken), 200, 'and on the other verifier')
  t.equal(await roomsStatus(longCache, oldToken), 200, 'an old token still works')
  const jwks = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> }
  t.same(jwks.keys.map((key) => key.kid), [newKey.kid, oldKey.kid], 'identity publishes the current and the previous key')
  // Past a whole cache lifetime the old token keeps working while its key is published.
  await new Promise((resolve) => setTimeout(resolve, cacheSeconds * 1000 + 500))
  t.equal(await roomsStatus(shortCache, oldToken), 200, 'an old token works across refreshes while its key is published')

  // The old key is removed once its tokens have expired (here: removed early, to see it go).
  await stop(identity)
  identity = await startIdentity(newKey)
  const removedAt = Date.now()
  await waitFor(async () => (await roomsStatus(shortCache, oldToken)) === 401, (cacheSeconds + 5) * 1000)
  const goneAfter = Date.now() - removedAt
  t.ok(goneAfter <= cacheSeconds * 1000 + 1_000, `the removed key stopped verifying after ${goneAfter} ms (lifetime ${cacheSeconds * 1000} ms)`)
  t.equal(await roomsStatus(shortCache, newToken), 200, 'the current key keeps verifying')
  t.equal(await roomsStatus(shortCache, await login()), 200)
  t.equal(await roomsStatus(longCache, oldToken), 200, 'a verifier keeps a removed key for its own cache lifetime, no longer (3600 s there)')
  await stop(identity)
})
