import { connectNatsBus } from '@chat/bus'
import { createDb } from '@chat/db'
import {
  ConfigError,
  commonAppOptions,
  configOrExit,
  createTokenSigner,
  loadConfig,
  natsBusOptions,
  PresenceTracker,
  startupLogger,
  signingKeyFromPem,
  superviseService,
  verifyingKeysFromPems,
  type SigningKey,
  type VerifyingKey
} from '@chat/service-kit'
import { buildApp } from './app.js'
import { IdentityConfig } from './config.js'
import type { Tracing } from '@chat/service-kit/tracing'

function readSigningKey(config: IdentityConfig): SigningKey {
  try {
    // Orchestrators often flatten PEM newlines to "\n" in variables.
    return signingKeyFromPem(config.JWT_PRIVATE_KEY.replaceAll('\\n', '\n'))
  } catch (error) {
    throw new ConfigError('JWT_PRIVATE_KEY', `is not a usable private key: ${(error as Error).message.split('\n')[0]}`)
  }
}

/** The keys published besides the signing key (the previous one while tokens it signed are still valid). */
function readPreviousKeys(config: IdentityConfig, signingKey: SigningKey): VerifyingKey[] {
  let keys: VerifyingKey[]
  try {
    keys = verifyingKeysFromPems(config.JWT_PREVIOUS_PUBLIC_KEYS ?? '')
  } catch (error) {
    throw new ConfigError('JWT_PREVIOUS_PUBLIC_KEYS', `is not a list of usable public keys: ${(error as Error).message.split('\n')[0]}`)
  }
  // The signing key is published anyway; listing it again would publish it twice.
  return keys.filter((key) => key.kid !== signingKey.kid)
}

/** The identity service as main.ts starts it, once tracing (when configured) is in place. */
export async function startServer(tracing: Tracing | undefined): Promise<void> {
  const { config, signingKey, previousKeys } = configOrExit(() => {
    const config = loadConfig(IdentityConfig)
    const signingKey = readSigningKey(config)
    return { config, signingKey, previousKeys: readPreviousKeys(config, signingKey) }
  })

  // The bus (presence only: identity publishes no events) starts before the app and logs through it once it exists.
  const logger = startupLogger()
  const database = await createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE })
  const bus = await connectNatsBus({ ...configOrExit(() => natsBusOptions(config, 'identity', logger, 'reader')), tracer: tracing?.tracer })
  const presence = new PresenceTracker(bus)
  await presence.start()
  const app = await buildApp(
    { db: database.db, databasePing: database.ping, signer: createTokenSigner(signingKey, config.ACCESS_TOKEN_TTL_SECONDS), previousKeys, presence },
    { ...commonAppOptions(config), refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS, authPerMinute: config.RATE_LIMIT_AUTH_PER_MINUTE }
  )
  logger.attach(app)
  superviseService(app, {
    database,
    bus,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    beforeBus: () => presence.close(),
    afterClose: async () => {
      await tracing?.shutdown()
    }
  })
  await app.listen({ port: config.PORT, host: config.HOST })
}
