import t from 'tap'
import { Type } from 'typebox'
import { ConfigError, commonConfig, databaseConfig, loadConfig } from '../src/index.js'

const Schema = Type.Object({ ...commonConfig, ...databaseConfig, PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: 3000 }) })

t.test('defaults and conversions', async (t) => {
  const config = loadConfig(Schema, { DATABASE_URL: 'postgres://localhost/chat', PORT: '8081', TRUST_PROXY_HOPS: '1', HOST: '' })
  t.equal(config.PORT, 8081)
  t.equal(config.TRUST_PROXY_HOPS, 1)
  t.equal(config.HOST, '127.0.0.1', 'an empty value counts as unset')
  t.equal(config.RATE_LIMIT_USER_RPS, 50)
  t.equal(config.BODY_LIMIT_BYTES, 65_536)
  t.equal(config.LOG_LEVEL, 'info')
})

t.test('a missing or bad value names its variable in one line', async (t) => {
  const cases: Array<[NodeJS.ProcessEnv, string]> = [
    [{}, 'DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://x', PORT: 'eighty' }, 'PORT'],
    [{ DATABASE_URL: 'postgres://x', PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'postgres://x', LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'postgres://x', RATE_LIMIT_USER_RPS: '-1' }, 'RATE_LIMIT_USER_RPS']
  ]
  for (const [env, variable] of cases) {
    try {
      loadConfig(Schema, env)
      t.fail(`${variable} should be refused`)
    } catch (error) {
      t.type(error, ConfigError)
      t.equal((error as ConfigError).variable, variable)
      t.match((error as Error).message, new RegExp(`^Invalid configuration: ${variable} `))
      t.notMatch((error as Error).message, /\n/)
    }
  }
})
