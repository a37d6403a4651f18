import { connectNatsBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { roomEventWriters } from '@chat/contracts'
import { createEventTracing, registerOutboxMetrics, registerRelayMetrics, startRoomEventRelay } from '@chat/room-events'
import { closeOnSignals, registerDependencyMetrics, commonAppOptions, configOrExit, loadConfig, natsBusOptions, startupLogger, tokenVerifierFromConfig } from '@chat/service-kit'
import { buildApp } from './app.js'
import { ReactionsConfig } from './config.js'
import { loadReactionList } from './reaction-list.js'
import type { Tracing } from '@chat/service-kit/tracing'

/** The reactions service as main.ts starts it, once tracing (when configured) is in place. */
export async function startServer(tracing: Tracing | undefined): Promise<void> {
  // A malformed reaction list stops the service like a bad variable: one line naming the file and the problem.
  const { config, verifier, reactionList } = configOrExit(() => {
    const config = loadConfig(ReactionsConfig)
    return { config, verifier: tokenVerifierFromConfig(config), reactionList: loadReactionList() }
  })

  // The bus connects before the app exists and logs through it once it does.
  const logger = startupLogger()
  const database = await createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE })
  const bus = await connectNatsBus({ ...configOrExit(() => natsBusOptions(config, 'reactions', logger)), tracer: tracing?.tracer })
  // The app makes its event publisher and closes it with itself; the relay is the process's.
  // Spans of room events (the send batch, the publish in its send's trace, the relay's links).
  const eventTracing = tracing ? createEventTracing(tracing.tracer) : undefined
  const app = await buildApp({ db: database.db, databasePing: database.ping, bus, verifier, eventTracing }, { ...commonAppOptions(config), reactionList })
  logger.attach(app)
  const relay = startRoomEventRelay({ db: database.db, bus, logger: app.log, types: roomEventWriters.reactions, tracing: eventTracing })
  // Read on scrape: the pool, the bus, the outbox (one query on its partial index) and the relay.
  registerDependencyMetrics(app.metrics, { poolStats: database.poolStats, busStats: bus.stats })
  registerOutboxMetrics(app.metrics, database.db)
  registerRelayMetrics(app.metrics, relay)
  closeOnSignals(app, {
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    afterClose: async () => {
      await relay.stop()
      await bus.drain()
      await database.destroy()
      await tracing?.shutdown()
    }
  })
  await app.listen({ port: config.PORT, host: config.HOST })
}
