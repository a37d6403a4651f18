import type { Kysely } from 'kysely'
import type { Database } from '@chat/db'
import {
  createServiceApp,
  readinessChecks,
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
    readiness: readinessChecks(deps),
    ...options
  })
  await app.register(identityPlugin, {
    db: deps.db,
    signer: deps.signer,
    refreshTokenTtlDays: options.refreshTokenTtlDays ?? 30,
    authPerMinute: options.authPerMinute ?? 10
  })
  return app
}
