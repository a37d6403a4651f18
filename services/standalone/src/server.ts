import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createInProcessBus } from '@chat/bus'
import { createDb, migrateToLatest } from '@chat/db'
import { createEventTracing, registerOutboxMetrics, registerRelayMetrics, startRoomEventRelay } from '@chat/room-events'
import { closeOnSignals, commonAppOptions, configOrExit, createTokenSigner, loadConfig } from '@chat/service-kit'
import { realtimeOptions } from '@chat/realtime'
import { buildStandaloneApp } from './app.js'
import { defaultWebDir } from './web-app.js'
import { StandaloneConfig } from './config.js'
import { loadOrCreateSigningKey } from './signing-key.js'
import type { Tracing } from '@chat/service-kit/tracing'

/** The standalone process as main.ts starts it, once tracing (when configured) is in place. */
export async function startServer(tracing: Tracing | undefined): Promise<void> {
  const config = configOrExit(() => loadConfig(StandaloneConfig))
  const dataDir = resolve(config.DATA_DIR)
  await mkdir(dataDir, { recursive: true })
  const { key, created } = await loadOrCreateSigningKey(join(dataDir, 'signing-key.pem'))
  const database = await createDb(join(dataDir, 'pglite'))
  await migrateToLatest(database.db)
  const bus = createInProcessBus({ tracer: tracing?.tracer })
  const eventTracing = tracing ? createEventTracing(tracing.tracer) : undefined
  const app = await buildStandaloneApp(
    { db: database.db, bus, signer: createTokenSigner(key, config.ACCESS_TOKEN_TTL_SECONDS), eventTracing },
    {
      refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
      authPerMinute: config.RATE_LIMIT_AUTH_PER_MINUTE,
      ...commonAppOptions(config),
      maxAvatarBytes: config.AVATAR_MAX_BYTES,
      avatarDecodeQueue: config.AVATAR_DECODE_QUEUE,
      realtime: realtimeOptions(config),
      webDir: config.WEB_DIR ? resolve(config.WEB_DIR) : defaultWebDir()
    }
  )
  const relay = startRoomEventRelay({ db: database.db, bus, logger: app.log, tracing: eventTracing })
  // The in-process bus has no connection to watch and PGlite no pool: the outbox and the relay only.
  registerOutboxMetrics(app.metrics, database.db)
  registerRelayMetrics(app.metrics, relay)
  closeOnSignals(app, {
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    afterClose: async () => {
      await relay.stop()
      await bus.drain()
      await database.destroy()
    }
  })
  app.log.info({ dataDir, signingKey: created ? 'created' : 'loaded', kid: key.kid }, 'standalone data folder ready')
  const address = await app.listen({ port: config.PORT, host: config.HOST })
  app.log.info(`Chat API ready at ${address} (OpenAPI docs at ${address}/docs)`)
}
