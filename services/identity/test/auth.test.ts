import t from 'tap'
import type { Session } from '@chat/contracts'
import { metricValue } from '@chat/service-kit/testing'
import { bearer, build, decodeJwtPart } from './helper.js'

const password = 'correct horse battery'

t.test('register creates a user and a working session', async (t) => {
  const { app } = await build(t)
  const response = await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: 'Ada Lovelace', password } })
  t.equal(response.statusCode, 201)
  const session = response.json<Session>()
  t.equal(session.user.display_name, 'Ada Lovelace')
  t.match(session.user.id, /^[0-9a-f-]{36}$/)
  t.match(session.user.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.equal(session.token_type, 'Bearer')
  t.equal(session.expires_in, 900, 'access tokens live 15 minutes by default')
  t.type(session.refresh_token, 'string')
  const header = decodeJwtPart(session.access_token, 0)
  const claims = decodeJwtPart(session.access_token, 1)
  t.equal(header.alg, 'EdDSA')
  t.type(header.kid, 'string')
  t.equal(claims.sub, session.user.id)
  t.equal(claims.name, 'Ada Lovelace')
  t.type(claims.jti, 'string')
  t.equal(Number(claims.exp) - Number(claims.iat), session.expires_in, 'expires_in is exp - iat')
  const me = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(session) })
  t.equal(me.statusCode, 200)
  t.same(me.json(), { ...session.user, rooms_invite: 'anyone' }, 'the user, with their settings')
})

t.test('access token lifetime is configurable', async (t) => {
  const { register } = await build(t, { accessTtlSeconds: 120 })
  const session = await register('Short')
  t.equal(session.expires_in, 120)
  const claims = decodeJwtPart(session.access_token, 1)
  t.equal(Number(claims.exp) - Number(claims.iat), 120)
})

t.test('display names are unique case-insensitively after NFC, and come back unchanged', async (t) => {
  const { app, register } = await build(t)
  await register('Ada')
  for (const taken of ['ada', 'ADA']) {
    const response = await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: taken, password } })
    t.equal(response.statusCode, 409, taken)
    t.equal(response.json().code, 'display_name_taken')
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8')
  }
  await register('\u00c9va') // É precomposed
  const decomposed = await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: 'e\u0301va', password } })
  t.equal(decomposed.statusCode, 409, 'decomposed é is the same name')
  const odd = `<b>"O'Brien"</b> 🎉  two  spaces`
  const session = await register(odd)
  t.equal(session.user.display_name, odd, 'stored and returned exactly as sent')
})

t.test('register validates its body', async (t) => {
  const { app } = await build(t)
  const cases: Array<[string, unknown, string]> = [
    ['short password', { display_name: 'Bob', password: 'short' }, '/password'],
    ['long password', { display_name: 'Bob', password: 'x'.repeat(257) }, '/password'],
    ['blank name', { display_name: '   ', password }, '/display_name'],
    ['empty name', { display_name: '', password }, '/display_name'],
    ['long name', { display_name: 'n'.repeat(65), password }, '/display_name'],
    ['control character', { display_name: 'Bob\u0007', password }, '/display_name'],
    ['NUL character', { display_name: 'Bob\u0000', password }, '/display_name'],
    ['lone surrogate', { display_name: 'Bob\udc00', password }, '/display_name'],
    ['missing password', { display_name: 'Bob' }, '/password'],
    ['unknown member', { display_name: 'Bob', password, admin: true }, '/admin'],
    ['wrong type', { display_name: 42, password }, '/display_name']
  ]
  for (const [label, payload, path] of cases) {
    const response = await app.inject({ method: 'POST', url: '/auth/register', payload: payload as object })
    t.equal(response.statusCode, 400, label)
    const body = response.json()
    t.equal(body.code, 'validation_failed', label)
    t.ok(body.errors.some((issue: { path: string }) => issue.path === path), `${label}: error at ${path}`)
  }
  const users = await app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'Bob', password } })
  t.equal(users.statusCode, 401, 'nothing was created')
})

t.test('malformed, oversize and non-JSON bodies are problem details', async (t) => {
  const { app } = await build(t)
  const malformed = await app.inject({ method: 'POST', url: '/auth/register', headers: { 'content-type': 'application/json' }, payload: '{"display_name": "Bob",' })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().code, 'invalid_json')
  const oversize = await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: 'Bob', password, padding: 'x'.repeat(70 * 1024) } })
  t.equal(oversize.statusCode, 413)
  t.equal(oversize.json().code, 'payload_too_large')
  t.equal(oversize.headers['content-type'], 'application/problem+json; charset=utf-8')
  const text = await app.inject({ method: 'POST', url: '/auth/register', headers: { 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(text.statusCode, 415)
  t.equal(text.json().code, 'unsupported_media_type')
  const empty = await app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '' })
  t.equal(empty.statusCode, 400)
})

t.test('login: one answer for an unknown name and a wrong password', async (t) => {
  const { app, register } = await build(t)
  const registered = await register('Grace')
  const ok = await app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'grace', password } })
  t.equal(ok.statusCode, 200, 'names match case-insensitively')
  t.equal(ok.json().user.id, registered.user.id)
  const wrong = await app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'Grace', password: 'wrong password!' } })
  const unknown = await app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'Nobody', password: 'wrong password!' } })
  t.equal(wrong.statusCode, 401)
  t.equal(unknown.statusCode, 401)
  t.equal(wrong.json().code, 'invalid_credentials')
  t.same(wrong.json(), unknown.json(), 'identical bodies')
  t.equal(wrong.headers['content-type'], unknown.headers['content-type'])
})

t.test('failed logins are limited per display name', async (t) => {
  const { app, register } = await build(t, { authPerMinute: 3 })
  await register('Target')
  for (let attempt = 0; attempt < 3; attempt++) {
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'Target', password: 'guess number ' + attempt } })
    t.equal(response.statusCode, 401)
  }
  const limited = await app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'TARGET', password } })
  t.equal(limited.statusCode, 429, 'even the right password waits')
  t.equal(limited.json().code, 'rate_limited')
  t.ok(Number(limited.headers['retry-after']) >= 1)
  const other = await app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'Someone', password } })
  t.equal(other.statusCode, 401, 'other names are not affected')
  t.equal(await metricValue(app.metrics, 'rate_limited_total', { limit: 'failed_logins' }), 1, 'the 429 is counted under its limit')
})

t.test('parallel guesses cannot slip past the failed-login limit', async (t) => {
  const { app, register } = await build(t, { authPerMinute: 3 })
  await register('Parallel')
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, index) => app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'Parallel', password: `guess number ${index}` } }))
  )
  const verified = answers.filter((answer) => answer.statusCode === 401).length
  t.ok(verified <= 3, `${verified} of 20 parallel guesses were checked`)
  t.equal(answers.filter((answer) => answer.statusCode === 429).length, 20 - verified)
})

t.test('registrations are limited per client address', async (t) => {
  const { app } = await build(t, { authPerMinute: 1 })
  for (let index = 0; index < 3; index++) {
    const response = await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: `user${index}`, password } })
    t.equal(response.statusCode, 201)
  }
  const limited = await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: 'user3', password } })
  t.equal(limited.statusCode, 429)
  t.ok(limited.headers['retry-after'])
  t.equal(await metricValue(app.metrics, 'rate_limited_total', { limit: 'registrations' }), 1, 'the 429 is counted under its limit')
})

t.test('refresh rotates; re-use of a rotated token revokes the family', async (t) => {
  const { app, register } = await build(t)
  const first = await register('Linus')
  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: first.refresh_token } })
  t.equal(refreshed.statusCode, 200)
  const second = refreshed.json<Session>()
  t.not(second.refresh_token, first.refresh_token)
  t.equal(second.user.id, first.user.id)
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers: bearer(second) })).statusCode, 200)

  const reuse = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: first.refresh_token } })
  t.equal(reuse.statusCode, 401)
  t.equal(reuse.json().code, 'refresh_token_reused')
  const afterReuse = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: second.refresh_token } })
  t.equal(afterReuse.statusCode, 401, 'the newest token of the family is revoked too')
  t.equal(afterReuse.json().code, 'invalid_refresh_token')

  const other = await app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'Linus', password } })
  const otherRefresh = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: other.json().refresh_token } })
  t.equal(otherRefresh.statusCode, 200, 'another login (family) is unaffected')
})

t.test('racing refreshes of one token: one wins, the family is revoked', async (t) => {
  const { app, register } = await build(t)
  const session = await register('Racer')
  const answers = await Promise.all(
    [0, 1].map(() => app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: session.refresh_token } }))
  )
  t.same(answers.map((answer) => answer.statusCode).sort(), [200, 401])
})

t.test('a refresh racing the re-use of an older token leaves no live token in the family', async (t) => {
  const { app, register } = await build(t)
  for (let round = 0; round < 8; round++) {
    const first = await register(`Race${round}`)
    const second = (await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: first.refresh_token } })).json<Session>()
    // The thief refreshes the current token while the victim replays the old one.
    const [thief, victim] = await Promise.all([
      app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: second.refresh_token } }),
      app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: first.refresh_token } })
    ])
    t.equal(victim.statusCode, 401, `round ${round}: the re-use is caught`)
    if (thief.statusCode === 200) {
      const stolen = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: thief.json<Session>().refresh_token } })
      t.equal(stolen.statusCode, 401, `round ${round}: the token issued during the race is revoked too`)
    } else {
      t.equal(thief.statusCode, 401, `round ${round}: or the thief was refused`)
    }
  }
})

t.test('unknown, expired and malformed refresh tokens', async (t) => {
  const { app, db, register } = await build(t)
  const unknown = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: 'not-a-token' } })
  t.equal(unknown.statusCode, 401)
  t.equal(unknown.json().code, 'invalid_refresh_token')
  const session = await register('Expiring')
  await db.updateTable('refresh_tokens').set({ expires_at: new Date(Date.now() - 1000) }).execute()
  const expired = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: session.refresh_token } })
  t.equal(expired.statusCode, 401)
  t.equal(expired.json().code, 'invalid_refresh_token')
  const missing = await app.inject({ method: 'POST', url: '/auth/refresh', payload: {} })
  t.equal(missing.statusCode, 400)
  const stored = await db.selectFrom('refresh_tokens').select('token_hash').execute()
  t.notOk(stored.some((row) => row.token_hash === session.refresh_token), 'only hashes are stored')
})

t.test('logout ends the session of its refresh token, for its owner only', async (t) => {
  const { app, register } = await build(t)
  const alice = await register('Alice')
  const bob = await register('Bob')
  const anonymous = await app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: alice.refresh_token } })
  t.equal(anonymous.statusCode, 401, 'logout needs an access token')
  const foreign = await app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(bob), payload: { refresh_token: alice.refresh_token } })
  t.equal(foreign.statusCode, 204)
  const stillWorks = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: alice.refresh_token } })
  t.equal(stillWorks.statusCode, 200, "Bob cannot end Alice's session")
  const aliceNow = stillWorks.json<Session>()
  const logout = await app.inject({ method: 'POST', url: '/auth/logout/', headers: bearer(aliceNow), payload: { refresh_token: aliceNow.refresh_token } })
  t.equal(logout.statusCode, 204)
  t.equal(logout.body, '')
  const after = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: aliceNow.refresh_token } })
  t.equal(after.statusCode, 401)
})

t.test('paths work with and without the trailing slash', async (t) => {
  const { app, register } = await build(t)
  const session = await register('Slash')
  for (const url of ['/users/me', '/users/me/']) {
    t.equal((await app.inject({ method: 'GET', url, headers: bearer(session) })).statusCode, 200, url)
  }
  const login = await app.inject({ method: 'POST', url: '/auth/login/', payload: { display_name: 'Slash', password } })
  t.equal(login.statusCode, 200)
})
