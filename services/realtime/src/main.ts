import { connectNatsBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { closeOnSignals, commonAppOptions, configOrExit, loadConfig, tokenVerifierFromConfig, type ServiceApp } from '@chat/service-kit'
import { buildApp, realtimeOptions } from './app.js'
import { RealtimeConfig } from './config.js'

const { config, verifier } = configOrExit(() => {
  const config = loadConfig(RealtimeConfig)
  return { config, verifier: tokenVerifierFromConfig(config) }
})

const started: { app?: ServiceApp } = {}
const logger = {
  info: (object: Record<string, unknown>, message: string) => started.app?.log.info(object, message),
  warn: (object: Record<string, unknown>, message: string) => (started.app ? started.app.log.warn(object, message) : console.error(message, object)),
  error: (object: Record<string, unknown>, message: string) => (started.app ? started.app.log.error(object, message) : console.error(message, object))
}

const database = await createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE })
const bus = await connectNatsBus({ url: config.NATS_URL, name: 'realtime', logger })
const app = await buildApp({ db: database.db, bus, verifier }, { ...commonAppOptions(config), ...realtimeOptions(config) })
started.app = app
// SIGTERM: stop accepting, close sockets with 1001 (the plugin's preClose), drain NATS, exit.
closeOnSignals(app, {
  timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  afterClose: async () => {
    await bus.drain()
    await database.destroy()
  }
})
await app.listen({ port: config.PORT, host: config.HOST })
