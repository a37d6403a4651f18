import { connectNatsBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { createRoomEventPublisher, startRoomEventRelay, type EventsLogger } from '@chat/room-events'
import {
  closeOnSignals,
  commonAppOptions,
  configOrExit,
  loadConfig,
  tokenVerifierFromConfig,
  type ServiceApp
} from '@chat/service-kit'
import { buildApp } from './app.js'
import { ReactionsConfig } from './config.js'
import { loadReactionList } from './reaction-list.js'

// A malformed reaction list stops the service like a bad variable: one line naming the file and the problem.
const { config, verifier, reactionList } = configOrExit(() => {
  const config = loadConfig(ReactionsConfig)
  return { config, verifier: tokenVerifierFromConfig(config), reactionList: loadReactionList() }
})

// The publisher, relay and bus exist before the app, whose logger they use once it does.
const started: { app?: ServiceApp } = {}
const logger: EventsLogger & { info(object: Record<string, unknown>, message: string): void } = {
  info: (object, message) => started.app?.log.info(object, message),
  warn: (object, message) => (started.app ? started.app.log.warn(object, message) : console.error(message, object)),
  error: (object, message) => (started.app ? started.app.log.error(object, message) : console.error(message, object))
}

const database = await createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE })
const bus = await connectNatsBus({ url: config.NATS_URL, name: 'reactions', logger })
const relay = startRoomEventRelay({ db: database.db, bus, logger })
const publisher = createRoomEventPublisher({ db: database.db, bus, logger })
const app = await buildApp({ db: database.db, bus, verifier, publisher }, { ...commonAppOptions(config), reactionList })
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
