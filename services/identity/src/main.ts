import { createDb } from '@chat/db'
import { ConfigError, closeOnSignals, createTokenSigner, loadConfig, signingKeyFromPem, type SigningKey } from '@chat/service-kit'
import { buildApp } from './app.js'
import { IdentityConfig } from './config.js'

function readConfig(): { config: IdentityConfig; signingKey: SigningKey } {
  try {
    const config = loadConfig(IdentityConfig)
    let signingKey: SigningKey
    try {
      // Orchestrators often flatten PEM newlines to "\n" in variables.
      signingKey = signingKeyFromPem(config.JWT_PRIVATE_KEY.replaceAll('\\n', '\n'))
    } catch (error) {
      throw new ConfigError('JWT_PRIVATE_KEY', `is not a usable private key: ${(error as Error).message.split('\n')[0]}`)
    }
    return { config, signingKey }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(1)
    }
    throw error
  }
}

const { config, signingKey } = readConfig()
const database = await createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE })
const app = await buildApp(
  { db: database.db, signer: createTokenSigner(signingKey, config.ACCESS_TOKEN_TTL_SECONDS) },
  {
    refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
    authPerMinute: config.RATE_LIMIT_AUTH_PER_MINUTE,
    userRps: config.RATE_LIMIT_USER_RPS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustProxyHops: config.TRUST_PROXY_HOPS,
    metricsToken: config.METRICS_TOKEN,
    logger: config.LOG_LEVEL
  }
)
closeOnSignals(app, { timeoutMs: config.SHUTDOWN_TIMEOUT_MS, afterClose: () => database.destroy() })
await app.listen({ port: config.PORT, host: config.HOST })
