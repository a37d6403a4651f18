import { connectNatsBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { superviseService, commonAppOptions, configOrExit, loadConfig, tokenVerifierFromConfig, startupLogger, natsBusOptions } from '@chat/service-kit'
import { buildApp, realtimeOptions } from './app.js'
import { RealtimeConfig } from './config.js'
import type { Tracing } from '@chat/service-kit/tracing'

/** The realtime service as main.ts starts it, once tracing (when configured) is in place. */
export async function startServer(tracing: Tracing | undefined): Promise<void> {
  const { config, verifier } = configOrExit(() => {
    const config = loadConfig(RealtimeConfig)
    return { config, verifier: tokenVerifierFromConfig(config) }
  })

  // The bus and the event machinery start before the app and log through it once it exists.
  const logger = startupLogger()

  const database = await createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE })
  const bus = await connectNatsBus({ ...configOrExit(() => natsBusOptions(config, 'realtime', logger, 'reader')), tracer: tracing?.tracer })
  const app = await buildApp({ db: database.db, databasePing: database.ping, bus, verifier }, { ...commonAppOptions(config), ...realtimeOptions(config), tracer: tracing?.tracer })
  logger.attach(app)
  // SIGTERM: stop accepting, close sockets with 1001 (the plugin's preClose), drain NATS, exit.
  superviseService(app, {
    database,
    bus,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    afterClose: async () => {
      await tracing?.shutdown()
    }
  })
  await app.listen({ port: config.PORT, host: config.HOST })
}
