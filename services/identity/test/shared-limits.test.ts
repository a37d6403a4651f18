// Two identity processes on one PostgreSQL database, as two replicas behind
// a load balancer: the failed-login limit holds for the pair, not per process.
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTestDatabase } from '@chat/db/testing'
import { generateSigningKey } from '@chat/service-kit'
import { startServiceProcess, type RunningService } from '@chat/service-kit/testing'

const mainFile = fileURLToPath(new URL('../dist/main.js', import.meta.url))

function post(service: RunningService, path: string, body: unknown): Promise<Response> {
  return fetch(`${service.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

t.test('two identity replicas share the failed-login and registration limits', async (t) => {
  const { url, kind } = await createTestDatabase(t)
  if (kind !== 'postgres') {
    t.skip('two processes need PostgreSQL', () => {})
    return
  }
  const key = generateSigningKey()
  const env = { DATABASE_URL: url, JWT_PRIVATE_KEY: key.privateKeyPem, RATE_LIMIT_AUTH_PER_MINUTE: '3' }
  const replicas = await Promise.all([startServiceProcess(mainFile, env), startServiceProcess(mainFile, env)])
  t.teardown(() => { for (const replica of replicas) replica.child.kill('SIGKILL') })
  const [a, b] = replicas

  t.equal((await post(a, '/auth/register/', { display_name: 'Target', password: 'the right password' })).status, 201)
  const guess = (replica: RunningService) => post(replica, '/auth/login/', { display_name: 'Target', password: 'a wrong guess' })
  // Three failures allowed per name and minute, spread over both replicas.
  t.equal((await guess(a)).status, 401)
  t.equal((await guess(b)).status, 401)
  t.equal((await guess(a)).status, 401)
  const limitedOnB = await guess(b)
  t.equal(limitedOnB.status, 429, 'the fourth guess is refused although this replica saw only one')
  t.ok(Number(limitedOnB.headers.get('retry-after')) >= 1, `Retry-After ${limitedOnB.headers.get('retry-after')}`)
  t.match(await limitedOnB.json(), { code: 'rate_limited' })
  t.equal((await guess(a)).status, 429, 'and on the other replica')
  t.equal((await post(b, '/auth/login/', { display_name: 'Target', password: 'the right password' })).status, 429, 'even the right password waits for the window')

  // Registrations: 3 x 3 = 9 per address and minute (the one above counted), over both replicas.
  const statuses: number[] = []
  for (let index = 0; index < 9; index++) {
    const replica = index % 2 === 0 ? b : a
    statuses.push((await post(replica, '/auth/register/', { display_name: `Someone ${index}`, password: 'long enough password' })).status)
  }
  t.same(statuses, [201, 201, 201, 201, 201, 201, 201, 201, 429], 'the tenth registration of the address is refused')
})
