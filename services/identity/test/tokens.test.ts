import { createHmac } from 'node:crypto'
import t from 'tap'
import { createSigner } from 'fast-jwt'
import { generateSigningKey, jwksKeyResolver, createTokenVerifier } from '@chat/service-kit'
import { bearer, build, decodeJwtPart } from './helper.js'

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

t.test('access tokens that must be refused', async (t) => {
  const { app, signer, register } = await build(t)
  const session = await register('Mallory')
  const [header, payload, signature] = session.access_token.split('.') as [string, string, string]
  const claims = decodeJwtPart(session.access_token, 1)
  const now = Math.floor(Date.now() / 1000)

  const expired = createSigner({ key: signer.key.privateKeyPem, algorithm: 'EdDSA', kid: signer.key.kid, clockTimestamp: Date.now() - 3_600_000, expiresIn: 60_000 })({
    sub: session.user.id, name: 'Mallory', jti: 'j1'
  })
  const tamperedPayload = base64url({ ...claims, sub: '00000000-0000-4000-8000-000000000000' })
  const otherKey = generateSigningKey()
  const foreign = createSigner({ key: otherKey.privateKeyPem, algorithm: 'EdDSA', kid: signer.key.kid, expiresIn: 60_000 })({
    sub: session.user.id, name: 'Mallory', jti: 'j2'
  })
  const noneToken = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...claims, exp: now + 600 })}.`
  // Algorithm confusion: an HMAC token keyed with the public key text.
  const hsHeader = base64url({ alg: 'HS256', typ: 'JWT', kid: signer.key.kid })
  const hsPayload = base64url({ ...claims, exp: now + 600 })
  const hsToken = `${hsHeader}.${hsPayload}.${createHmac('sha256', signer.key.publicKeyPem).update(`${hsHeader}.${hsPayload}`).digest('base64url')}`

  const cases: Array<[string, Record<string, string>]> = [
    ['no header', {}],
    ['not a bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ['empty bearer', { authorization: 'Bearer ' }],
    ['garbage', bearer('not.a.jwt')],
    ['expired', bearer(expired)],
    ['tampered payload', bearer(`${header}.${tamperedPayload}.${signature}`)],
    ['tampered signature', bearer(`${header}.${payload}.${signature.slice(0, -4)}AAAA`)],
    ['signed by another key', bearer(foreign)],
    ['alg none', bearer(noneToken)],
    ['HS256 with the public key', bearer(hsToken)]
  ]
  for (const [label, headers] of cases) {
    const response = await app.inject({ method: 'GET', url: '/users/me', headers })
    t.equal(response.statusCode, 401, label)
    t.equal(response.json().code, 'unauthenticated', label)
    t.equal(response.headers['www-authenticate'], 'Bearer', label)
  }
  const expiredResponse = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(expired) })
  t.match(expiredResponse.json().detail, /expired/)
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: bearer(session) })).statusCode, 200, 'the real token still works')
})

t.test('JWKS publishes the key that verifies the tokens', async (t) => {
  const { app, signer, register } = await build(t)
  const response = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['cache-control'], /max-age/)
  const jwks = response.json()
  t.equal(jwks.keys.length, 1)
  t.match(jwks.keys[0], { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: signer.key.kid })
  t.notOk('d' in jwks.keys[0], 'no private part')
  const session = await register('Verifier')
  t.equal(decodeJwtPart(session.access_token, 0).kid, jwks.keys[0].kid)
  // Another service verifies with nothing but the JWKS document.
  const resolver = jwksKeyResolver('http://identity/.well-known/jwks.json', {
    fetchImpl: (async () => new Response(response.body, { status: 200, headers: { 'content-type': 'application/json' } }))
  })
  const user = await createTokenVerifier(resolver).verify(session.access_token)
  t.same(user, { id: session.user.id, displayName: 'Verifier', expiresAt: (decodeJwtPart(session.access_token, 1).exp as number) * 1000 })
})
