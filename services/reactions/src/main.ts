import { connectNatsBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { roomEventWriters } from '@chat/contracts'
import { createRoomEventPublisher, startRoomEventRelay } from '@chat/room-events'
import {
  closeOnSignals,
  commonAppOptions,
  configOrExit,
  loadConfig,
  tokenVerifierFromConfig,
  startupLogger,
  natsBusOptions
} from '@chat/service-kit'
import { buildApp } from './app.js'
import { ReactionsConfig } from './config.js'
import { loadReactionList } from './reaction-list.js'

// A malformed reaction list stops the service like a bad variable: one line naming the file and the problem.
const { config, verifier, reactionList } = configOrExit(() => {
  const config = loadConfig(ReactionsConfig)
  return { config, verifier: tokenVerifierFromConfig(config), reactionList: loadReactionList() }
})

// The bus and the event machinery start before the app and log through it once it exists.
const logger = startupLogger()

const database = await createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE })
const bus = await connectNatsBus(configOrExit(() => natsBusOptions(config, 'reactions', logger)))
const relay = startRoomEventRelay({ db: database.db, bus, logger, types: roomEventWriters.reactions })
const publisher = createRoomEventPublisher({ db: database.db, bus, logger })
const app = await buildApp({ db: database.db, bus, verifier, publisher }, { ...commonAppOptions(config), reactionList })
logger.attach(app)
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
