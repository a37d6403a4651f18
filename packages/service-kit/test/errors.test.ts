import t from 'tap'
import { Type } from 'typebox'
import { AppError, createServiceApp, createTokenVerifier, generateSigningKey, isDependencyFailure, staticKeyResolver, validationIssues } from '../src/index.js'

async function app(t: { teardown(fn: () => unknown): void }) {
  const instance = await createServiceApp({
    title: 'test',
    verifier: createTokenVerifier(staticKeyResolver([generateSigningKey()])),
    readiness: {},
    bodyLimitBytes: 1024,
    userRps: 0,
    logger: false
  })
  instance.get('/boom', async () => { throw new Error('password=hunter2 at db.internal:5432') })
  instance.get('/nul', async () => { throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' }) })
  instance.get('/coded', async () => { throw new AppError(409, 'room_full', 'The room is full', { capacity: 5 }, { 'retry-after': '3' }) })
  instance.post('/echo', { schema: { body: Type.Object({ text: Type.String({ minLength: 1 }) }, { additionalProperties: false }) } }, async (request) => request.body)
  t.teardown(() => instance.close())
  return instance
}

t.test('unexpected errors answer 500 without internals', async (t) => {
  const instance = await app(t)
  const response = await instance.inject('/boom')
  t.equal(response.statusCode, 500)
  t.equal(response.json().code, 'internal_error')
  t.notMatch(response.body, /hunter2|db\.internal/)
  t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8')
})

t.test('characters the database refuses are a 400', async (t) => {
  const instance = await app(t)
  const response = await instance.inject('/nul')
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'invalid_characters')
})

t.test('coded errors carry their code, members and headers', async (t) => {
  const instance = await app(t)
  const response = await instance.inject('/coded')
  t.equal(response.statusCode, 409)
  t.match(response.json(), { type: 'https://chat.example/problems/room-full', title: 'Conflict', status: 409, detail: 'The room is full', code: 'room_full', capacity: 5 })
  t.equal(response.headers['retry-after'], '3')
})

t.test('validation errors list each field', async (t) => {
  const instance = await app(t)
  const response = await instance.inject({ method: 'POST', url: '/echo', payload: { text: '', extra: 1 } })
  t.equal(response.statusCode, 400)
  t.same(response.json().errors.map((issue: { path: string }) => issue.path).sort(), ['/extra', '/text'])
  const tooLarge = await instance.inject({ method: 'POST', url: '/echo', payload: { text: 'x'.repeat(2000) } })
  t.equal(tooLarge.statusCode, 413, 'the configured body limit applies')
})

t.test('the client address: X-Forwarded-For counts only as far as the trusted hops', async (t) => {
  for (const [hops, expected] of [[0, '127.0.0.1'], [1, '10.0.0.1'], [2, '6.6.6.7']] as const) {
    const instance = await createServiceApp({
      title: 'test',
      verifier: createTokenVerifier(staticKeyResolver([generateSigningKey()])),
      readiness: {},
      bodyLimitBytes: 1024,
      userRps: 0,
      trustProxyHops: hops,
      logger: false
    })
    instance.get('/ip', async (request) => ({ ip: request.ip }))
    const response = await instance.inject({ url: '/ip', headers: { 'x-forwarded-for': '6.6.6.7, 10.0.0.1' } })
    t.equal(response.json().ip, expected, `${hops} trusted hops`)
    await instance.close()
  }
})

t.test('query strings are converted strictly: no silent truncation', async (t) => {
  const instance = await app(t)
  instance.get('/page', { schema: { querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })), flag: Type.Optional(Type.Boolean()) }) } }, async (request) => request.query)
  t.same((await instance.inject('/page?limit=12&flag=true')).json(), { limit: 12, flag: true })
  for (const query of ['limit=1.5', 'limit=1e2', 'limit=%2012', 'limit=0x10', 'limit=1&limit=2', 'flag=yes']) {
    t.equal((await instance.inject(`/page?${query}`)).statusCode, 400, query)
  }
})

t.test('a malformed URL is problem details too', async (t) => {
  const instance = await app(t)
  instance.get('/rooms/:room_id', async () => ({}))
  const response = await instance.inject('/rooms/%E0%A4%A')
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'bad_url')
  t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8')
})

t.test('/metrics with a token', async (t) => {
  const instance = await createServiceApp({
    title: 'test',
    verifier: createTokenVerifier(staticKeyResolver([generateSigningKey()])),
    readiness: {},
    bodyLimitBytes: 1024,
    userRps: 0,
    metricsToken: 'a-long-enough-metrics-token',
    logger: false
  })
  t.teardown(() => instance.close())
  t.equal((await instance.inject('/metrics')).statusCode, 401)
  t.equal((await instance.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode, 401)
  const allowed = await instance.inject({ url: '/metrics', headers: { authorization: 'Bearer a-long-enough-metrics-token' } })
  t.equal(allowed.statusCode, 200)
  t.match(allowed.body, /process_cpu_user_seconds_total/)
})

t.test('validationIssues maps required and additional members to their paths', async (t) => {
  t.same(validationIssues([
    { keyword: 'required', instancePath: '', params: { requiredProperties: ['a', 'b'] }, message: 'x' },
    { keyword: 'boolean', instancePath: '/c', message: 'schema is false' },
    { keyword: 'additionalProperties', instancePath: '', params: { additionalProperties: ['c'] } },
    { keyword: 'minimum', instancePath: '/n', message: 'must be >= 1' },
    { keyword: 'minimum', instancePath: '/n', message: 'must be >= 1' }
  ]), [
    { path: '/a', message: 'is required' },
    { path: '/b', message: 'is required' },
    { path: '/c', message: 'is not allowed' },
    { path: '/n', message: 'must be >= 1' }
  ])
})

t.test('a database or bus that went away is a 503, whatever form pg gives the failure', async (t) => {
  t.ok(isDependencyFailure(new Error('Client has encountered a connection error and is not queryable')), "a broken client's rollback")
  t.ok(isDependencyFailure(new Error('Connection terminated unexpectedly')))
  t.ok(isDependencyFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })))
  t.ok(isDependencyFailure(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })))
  t.notOk(isDependencyFailure(new Error('password=hunter2 at db.internal:5432')), 'anything else is not')
  t.notOk(isDependencyFailure('a string'))
  const instance = await app(t)
  instance.get('/broken', async () => { throw new Error('Client has encountered a connection error and is not queryable') })
  const response = await instance.inject('/broken')
  t.equal(response.statusCode, 503)
  t.equal(response.headers['retry-after'], '5')
  t.equal(response.json().code, 'service_unavailable')
})
