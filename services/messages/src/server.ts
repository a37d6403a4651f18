import { connectNatsBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { roomEventWriters } from '@chat/contracts'
import { createEventTracing, superviseEventWriter } from '@chat/room-events'
import { commonAppOptions, configOrExit, loadConfig, natsBusOptions, startupLogger, tokenVerifierFromConfig } from '@chat/service-kit'
import { buildApp } from './app.js'
import { MessagesConfig } from './config.js'
import type { Tracing } from '@chat/service-kit/tracing'

/** The messages service as main.ts starts it, once tracing (when configured) is in place. */
export async function startServer(tracing: Tracing | undefined): Promise<void> {
  const { config, verifier } = configOrExit(() => {
    const config = loadConfig(MessagesConfig)
    return { config, verifier: tokenVerifierFromConfig(config) }
  })

  // The bus connects before the app exists and logs through it once it does.
  const logger = startupLogger()
  const database = await createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE })
  const bus = await connectNatsBus({ ...configOrExit(() => natsBusOptions(config, 'messages', logger)), tracer: tracing?.tracer })
  // The app makes its event publisher and closes it with itself; the relay is the process's.
  // Spans of room events (the send batch, the publish in its send's trace, the relay's links).
  const eventTracing = tracing ? createEventTracing(tracing.tracer) : undefined
  const app = await buildApp({ db: database.db, databasePing: database.ping, bus, verifier, eventTracing }, { ...commonAppOptions(config), sendBatchesInFlight: config.SEND_BATCHES_IN_FLIGHT })
  logger.attach(app)
  // The relay, the metrics read on scrape and the order of shutdown, as in every writing service.
  superviseEventWriter(app, {
    database,
    bus,
    types: roomEventWriters.messages,
    eventTracing,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    afterClose: async () => {
      await tracing?.shutdown()
    }
  })
  await app.listen({ port: config.PORT, host: config.HOST })
}
