import { connectNatsBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { createRoomEventPublisher, startRoomEventRelay, type EventsLogger } from '@chat/room-events'
import {
  ConfigError,
  closeOnSignals,
  loadConfig,
  tokenVerifierFromConfig,
  type ServiceApp,
  type TokenVerifier
} from '@chat/service-kit'
import { buildApp } from './app.js'
import { MessagesConfig } from './config.js'

function readConfig(): { config: MessagesConfig; verifier: TokenVerifier } {
  try {
    const config = loadConfig(MessagesConfig)
    return { config, verifier: tokenVerifierFromConfig(config) }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(1)
    }
    throw error
  }
}

const { config, verifier } = readConfig()

// The publisher, relay and bus exist before the app, whose logger they use once it does.
const started: { app?: ServiceApp } = {}
const logger: EventsLogger & { info(object: Record<string, unknown>, message: string): void } = {
  info: (object, message) => started.app?.log.info(object, message),
  warn: (object, message) => (started.app ? started.app.log.warn(object, message) : console.error(message, object)),
  error: (object, message) => (started.app ? started.app.log.error(object, message) : console.error(message, object))
}

const database = await createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE })
const bus = await connectNatsBus({ url: config.NATS_URL, name: 'messages', logger })
const relay = startRoomEventRelay({ db: database.db, bus, logger })
const publisher = createRoomEventPublisher({ db: database.db, bus, logger })
const app = await buildApp(
  { db: database.db, bus, verifier, publisher },
  {
    userRps: config.RATE_LIMIT_USER_RPS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustProxyHops: config.TRUST_PROXY_HOPS,
    metricsToken: config.METRICS_TOKEN,
    logger: config.LOG_LEVEL
  }
)
started.app = app
closeOnSignals(app, {
  timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  afterClose: async () => {
    await relay.stop()
    await publisher.close()
    await bus.drain()
    await database.destroy()
  }
})
await app.listen({ port: config.PORT, host: config.HOST })
