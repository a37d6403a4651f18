import { sql, type Kysely } from 'kysely'
import type { Database } from '@chat/db'
import {
  createServiceApp,
  createTokenVerifier,
  staticKeyResolver,
  type ServiceApp,
  type CommonAppOptions,
  type TokenSigner
} from '@chat/service-kit'
import { identityPlugin } from './plugin.js'

export interface IdentityDeps {
  db: Kysely<Database>
  signer: TokenSigner
}

export interface IdentityAppOptions extends CommonAppOptions {
  refreshTokenTtlDays?: number
  authPerMinute?: number
}

/** The identity service on its own Fastify instance (main.ts and tests). */
export async function buildApp(deps: IdentityDeps, options: IdentityAppOptions = {}): Promise<ServiceApp> {
  const app = await createServiceApp({
    title: 'Chat identity service',
    verifier: createTokenVerifier(staticKeyResolver([deps.signer.key])),
    readiness: { database: async () => { await sql`select 1`.execute(deps.db) } },
    bodyLimitBytes: options.bodyLimitBytes ?? 64 * 1024,
    userRps: options.userRps ?? 50,
    trustProxyHops: options.trustProxyHops,
    metricsToken: options.metricsToken,
    logger: options.logger
  })
  await app.register(identityPlugin, {
    db: deps.db,
    signer: deps.signer,
    refreshTokenTtlDays: options.refreshTokenTtlDays ?? 30,
    authPerMinute: options.authPerMinute ?? 10
  })
  return app
}
