import { connectNatsBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { startRoomEventRelay } from '@chat/room-events'
import { ConfigError, closeOnSignals, loadConfig, tokenVerifierFromConfig } from '@chat/service-kit'
import { buildApp } from './app.js'
import { RoomsConfig } from './config.js'

function fromEnvironment() {
  try {
    const config = loadConfig(RoomsConfig)
    return { config, verifier: tokenVerifierFromConfig(config) }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(1)
    }
    throw error
  }
}

const { config, verifier } = fromEnvironment()
const database = await createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE })
const bus = await connectNatsBus({ url: config.NATS_URL, name: 'rooms' })
const app = await buildApp(
  { db: database.db, bus, verifier },
  {
    maxAvatarBytes: config.AVATAR_MAX_BYTES,
    userRps: config.RATE_LIMIT_USER_RPS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustProxyHops: config.TRUST_PROXY_HOPS,
    metricsToken: config.METRICS_TOKEN,
    logger: config.LOG_LEVEL
  }
)
const relay = startRoomEventRelay({ db: database.db, bus, logger: app.log })
closeOnSignals(app, {
  timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  afterClose: async () => {
    await relay.stop()
    await bus.drain()
    await database.destroy()
  }
})
await app.listen({ port: config.PORT, host: config.HOST })
