import t from 'tap'
import { createInProcessBus } from '@chat/bus'
import { createDb, migrateToLatest } from '@chat/db'
import { createTokenSigner, generateSigningKey } from '@chat/service-kit'
import { buildStandaloneApp } from '../src/app.js'

t.test('the standalone app serves identity on PGlite with the in-process bus', async (t) => {
  const database = await createDb('memory://')
  await migrateToLatest(database.db)
  const bus = createInProcessBus()
  const app = await buildStandaloneApp({ db: database.db, bus, signer: createTokenSigner(generateSigningKey(), 900) }, { logger: false })
  t.teardown(async () => {
    await app.close()
    await bus.close()
    await database.destroy()
  })
  const registered = await app.inject({ method: 'POST', url: '/auth/register/', payload: { display_name: 'Solo', password: 'long enough' } })
  t.equal(registered.statusCode, 201)
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { display_name: 'solo', password: 'long enough' } })
  t.equal(login.statusCode, 200)
  const headers = { authorization: `Bearer ${login.json().access_token}` }
  t.equal((await app.inject({ method: 'GET', url: '/users/me', headers })).json().display_name, 'Solo')
  t.equal((await app.inject({ method: 'GET', url: '/users/?search=so', headers })).json().length, 1)
  t.equal((await app.inject('/.well-known/jwks.json')).json().keys.length, 1)
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.same(ready.json().checks, { database: 'ok', bus: 'ok' })
  t.equal((await app.inject('/docs/json')).statusCode, 200)
})
