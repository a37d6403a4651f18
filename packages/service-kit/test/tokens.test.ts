import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { createSigner } from 'fast-jwt'
import {
  InvalidTokenError,
  KeysUnavailableError,
  createServiceApp,
  bearerToken,
  createTokenSigner,
  createTokenVerifier,
  generateSigningKey,
  jwksKeyResolver,
  signingKeyFromPem,
  staticKeyResolver,
  toJwks,
  verifyingKeyFromPem,
  type AuthUser
} from '../src/index.js'

const user = { id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f', displayName: 'Ada' }

function es256Pem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

/** The user part of a verified token (its expiry is checked on its own). */
function userOf({ id, displayName }: AuthUser): AuthUser {
  return { id, displayName }
}

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'accepted'
  } catch (error) {
    return error instanceof InvalidTokenError ? error.reason : `unexpected ${String(error)}`
  }
}

t.test('EdDSA and ES256 tokens verify with their public key', async (t) => {
  for (const key of [generateSigningKey(), signingKeyFromPem(es256Pem())]) {
    const signer = createTokenSigner(key, 60)
    const issued = signer.sign(user)
    t.equal(issued.expiresIn, 60)
    const verifier = createTokenVerifier(staticKeyResolver([verifyingKeyFromPem(key.publicKeyPem)]))
    const verified = await verifier.verify(issued.token)
    t.same(userOf(verified), user, key.alg)
    const exp = (JSON.parse(Buffer.from(issued.token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp
    t.equal(verified.expiresAt, exp * 1000, 'the expiry comes with the user, in ms')
  }
})

t.test('keys of other types are refused', async (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  t.throws(() => signingKeyFromPem(rsa), /unsupported key type rsa/)
})

t.test('refusals say why', async (t) => {
  const key = generateSigningKey()
  const verifier = createTokenVerifier(staticKeyResolver([key]))
  t.equal(await reason(verifier.verify(undefined)), 'missing')
  t.equal(await reason(verifier.verify('a.b.c')), 'invalid')
  const expired = createSigner({ key: key.privateKeyPem, algorithm: 'EdDSA', clockTimestamp: Date.now() - 600_000, expiresIn: 60_000 })({ sub: user.id, name: 'Ada', jti: 'x' })
  t.equal(await reason(verifier.verify(expired)), 'expired')
  const noName = createSigner({ key: key.privateKeyPem, algorithm: 'EdDSA', expiresIn: 60_000 })({ sub: user.id, jti: 'x' })
  t.equal(await reason(verifier.verify(noName)), 'invalid', 'claims of api.md are required')
  const notUuid = createSigner({ key: key.privateKeyPem, algorithm: 'EdDSA', expiresIn: 60_000 })({ sub: 'admin', name: 'x', jti: 'x' })
  t.equal(await reason(verifier.verify(notUuid)), 'invalid')
  const es = signingKeyFromPem(es256Pem())
  const twoKeys = createTokenVerifier(staticKeyResolver([key, es]))
  const unknownKid = createSigner({ key: generateSigningKey().privateKeyPem, algorithm: 'EdDSA', kid: 'nope', expiresIn: 60_000 })({ sub: user.id, name: 'x', jti: 'x' })
  t.equal(await reason(twoKeys.verify(unknownKid)), 'invalid')
  const byKid = await twoKeys.verify(createTokenSigner(es, 60).sign(user).token)
  t.same(userOf(byKid), user, 'several keys are picked by kid')
})

t.test('JWKS resolver follows key rotation, refetching at most once per interval', async (t) => {
  const oldKey = generateSigningKey()
  const newKey = generateSigningKey()
  let published = [oldKey]
  let fetches = 0
  const fetchImpl = (async () => {
    fetches += 1
    return new Response(JSON.stringify(toJwks(published)), { status: 200 })
  }) as typeof fetch
  const verifier = createTokenVerifier(jwksKeyResolver('http://identity/jwks', { fetchImpl, cooldownMs: 0 }))
  t.same(userOf(await verifier.verify(createTokenSigner(oldKey, 60).sign(user).token)), user)
  t.same(userOf(await verifier.verify(createTokenSigner(oldKey, 60).sign(user).token)), user)
  t.equal(fetches, 1, 'cached')
  published = [oldKey, newKey]
  t.same(userOf(await verifier.verify(createTokenSigner(newKey, 60).sign(user).token)), user, 'an unknown kid triggers a refetch')
  t.equal(fetches, 2)

  let slowFetches = 0
  const throttled = createTokenVerifier(jwksKeyResolver('http://identity/jwks', {
    fetchImpl: (async () => { slowFetches += 1; return new Response(JSON.stringify(toJwks([oldKey])), { status: 200 }) }),
    cooldownMs: 60_000
  }))
  const stranger = createTokenSigner(generateSigningKey(), 60).sign(user).token
  t.equal(await reason(throttled.verify(stranger)), 'invalid')
  t.equal(await reason(throttled.verify(stranger)), 'invalid')
  t.equal(slowFetches, 1, 'unknown kids cannot make it hammer the JWKS endpoint')
})

t.test('a verified token is answered from memory by its text, never past its exp, and no more tokens than the cache holds', async (t) => {
  const key = generateSigningKey()
  const verifier = createTokenVerifier(staticKeyResolver([key]), { clockToleranceMs: 0, cacheTtlMs: 60_000, cacheEntries: 2 })
  const signer = createTokenSigner(key, 60)
  const [first, second, third] = [signer.sign(user).token, signer.sign(user).token, signer.sign(user).token]
  const answer = await verifier.verify(first)
  t.equal(await verifier.verify(first), answer, 'the same answer again: no signature check, no hash of the token')
  t.ok(Object.isFrozen(answer), 'shared between requests, so nobody can change it')
  await verifier.verify(second)
  await verifier.verify(third)
  const again = await verifier.verify(first)
  t.not(again, answer, 'past the size of the cache, the oldest token is verified anew')
  t.same(userOf(again), user)

  // exp has a resolution of a second: a token of two seconds has one to two left.
  const brief = createTokenSigner(key, 2).sign(user).token
  t.same(userOf(await verifier.verify(brief)), user)
  const deadline = Date.now() + 4_000
  while ((await reason(verifier.verify(brief))) === 'accepted' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(await reason(verifier.verify(brief)), 'expired', 'a cached token still expires at its exp')
})

t.test('a token whose key is gone is refused at the end of the cache lifetime, however often it is shown meanwhile', async (t) => {
  const key = generateSigningKey()
  // The resolver reads this list: emptied, the key is unknown.
  const keys = [key]
  const lifetimeMs = 400
  const verifier = createTokenVerifier(staticKeyResolver(keys), { clockToleranceMs: 0, cacheTtlMs: lifetimeMs })
  const token = createTokenSigner(key, 600).sign(user).token
  const checkedAt = Date.now()
  t.same(userOf(await verifier.verify(token)), user)
  keys.length = 0
  // Shown as often as the event loop allows: one of these lands in the
  // millisecond where the token has just left one cache, and another cache
  // that still held it must not start its lifetime again.
  while ((await reason(verifier.verify(token))) === 'accepted' && Date.now() - checkedAt < 3 * lifetimeMs) await new Promise((resolve) => setImmediate(resolve))
  const refusedAfter = Date.now() - checkedAt
  t.ok(refusedAfter < 1.5 * lifetimeMs, `refused ${refusedAfter} ms after its key was last checked (lifetime ${lifetimeMs} ms)`)
  t.equal(await reason(verifier.verify(token)), 'invalid')
})

t.test('a key removed from the JWKS stops verifying within the cache lifetime, also for tokens it verified before', async (t) => {
  const oldKey = generateSigningKey()
  const newKey = generateSigningKey()
  let published = [newKey, oldKey]
  const fetchImpl = (async () => new Response(JSON.stringify(toJwks(published)), { status: 200 })) as typeof fetch
  const lifetimeMs = 1_000
  const verifier = createTokenVerifier(jwksKeyResolver('http://identity/jwks', { fetchImpl, cacheMaxAgeMs: lifetimeMs / 2, cooldownMs: 0 }), {
    cacheTtlMs: lifetimeMs / 2,
    // Shorter than the lifetime, so that the caches of verified tokens are on and have to let go in time.
    clockToleranceMs: 100
  })
  const oldToken = createTokenSigner(oldKey, 600).sign(user).token
  t.same(userOf(await verifier.verify(oldToken)), user, 'the previous key verifies while it is published')
  published = [newKey]
  const removedAt = Date.now()
  // Verified again at once: from the verifier's cache or jose's key set, both still holding it.
  t.same(userOf(await verifier.verify(oldToken)), user)
  while ((await reason(verifier.verify(oldToken))) === 'accepted') await new Promise((resolve) => setTimeout(resolve, 50))
  const forgottenAfter = Date.now() - removedAt
  t.ok(forgottenAfter <= lifetimeMs + 200, `forgotten after ${forgottenAfter} ms (lifetime ${lifetimeMs} ms)`)
  t.same(userOf(await verifier.verify(createTokenSigner(newKey, 600).sign(user).token)), user, 'the current key still verifies')
})

t.test('while the JWKS endpoint is down the keys fetched last keep verifying; an unknown kid is a 503 then, not a 401', async (t) => {
  const key = generateSigningKey()
  let up = true
  let fetches = 0
  const fetchImpl = (async () => {
    fetches += 1
    if (!up) throw new TypeError('fetch failed')
    return new Response(JSON.stringify(toJwks([key])), { status: 200 })
  }) as typeof fetch
  const verifier = createTokenVerifier(jwksKeyResolver('http://identity/jwks', { fetchImpl, cacheMaxAgeMs: 100, cooldownMs: 0 }), { cacheTtlMs: 100 })
  t.same(userOf(await verifier.verify(createTokenSigner(key, 60).sign(user).token)), user)
  up = false
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.same(userOf(await verifier.verify(createTokenSigner(key, 60).sign(user).token)), user, 'a stale key set serves when it cannot be refreshed')
  const fetchesAfterFailure = fetches
  t.same(userOf(await verifier.verify(createTokenSigner(key, 60).sign(user).token)), user)
  t.equal(fetches, fetchesAfterFailure, 'no fetch right after a failure')
  const stranger = await verifier.verify(createTokenSigner(generateSigningKey(), 60).sign(user).token).then(() => undefined, (caught: unknown) => caught)
  t.ok(stranger instanceof KeysUnavailableError, 'a kid nobody can check right now')
})

t.test('a JWKS endpoint that is down: KeysUnavailableError, retried after a pause, and a 503 from the app', async (t) => {
  const key = generateSigningKey()
  let fetches = 0
  let up = false
  const fetchImpl = (async () => {
    fetches += 1
    if (!up) throw new TypeError('fetch failed')
    return new Response(JSON.stringify(toJwks([key])), { status: 200 })
  }) as typeof fetch
  const verifier = createTokenVerifier(jwksKeyResolver('http://identity/jwks', { fetchImpl, cooldownMs: 0 }))
  const token = createTokenSigner(key, 60).sign(user).token
  for (let attempt = 0; attempt < 2; attempt++) {
    const error = await verifier.verify(token).then(() => undefined, (caught: unknown) => caught)
    t.ok(error instanceof KeysUnavailableError, `attempt ${attempt}: KeysUnavailableError`)
  }
  t.equal(fetches, 1, 'no second fetch right after a failure')

  const app = await createServiceApp({ title: 't', verifier, readiness: {}, bodyLimitBytes: 1024, userRps: 0, logger: false })
  t.teardown(() => app.close())
  app.get('/private', { onRequest: app.authenticate }, async () => ({ ok: true }))
  const response = await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })
  t.equal(response.statusCode, 503, 'not a 401 that would make clients drop their session')
  t.equal(response.json().code, 'auth_unavailable')
  t.equal(response.headers['retry-after'], '5')

  up = true
  await new Promise((resolve) => setTimeout(resolve, 2_100))
  t.same(userOf(await verifier.verify(token)), user, 'works once the endpoint is back')
})

t.test('bearer header parsing', async (t) => {
  t.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi')
  t.equal(bearerToken('bearer   abc'), 'abc')
  t.equal(bearerToken('Basic abc'), undefined)
  t.equal(bearerToken('Bearer a b'), undefined)
  t.equal(bearerToken(undefined), undefined)
})
