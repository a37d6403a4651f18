import type { Kysely } from 'kysely'
import type { Database } from '@chat/db'
import {
  createServiceApp,
  readinessChecks,
  createTokenVerifier,
  staticKeyResolver,
  nobodyOnline,
  type PresenceReader,
  type ServiceApp,
  type CommonAppOptions,
  type TokenSigner,
  type VerifyingKey
} from '@chat/service-kit'
import { identityPlugin } from './plugin.js'

export interface IdentityDeps {
  /** `/readyz`'s database check on a connection of its own (`DbHandle.ping`); through the pool when left out. */
  databasePing?: () => Promise<void>
  db: Kysely<Database>
  signer: TokenSigner
  /** Published in the JWKS and accepted besides the signing key: the previous key during a rotation. */
  previousKeys?: readonly VerifyingKey[]
  /**
   * Who is online (main.ts: a PresenceTracker on NATS). Left out, nobody is:
   * for tests that do not look at presence.
   */
  presence?: PresenceReader
}

export interface IdentityAppOptions extends CommonAppOptions {
  refreshTokenTtlDays?: number
  authPerMinute?: number
}

/** The identity service on its own Fastify instance (main.ts and tests). */
export async function buildApp(deps: IdentityDeps, options: IdentityAppOptions = {}): Promise<ServiceApp> {
  const publicKeys = [deps.signer.key, ...(deps.previousKeys ?? [])]
  const app = await createServiceApp({
    title: 'Chat identity service',
    verifier: createTokenVerifier(staticKeyResolver(publicKeys)),
    readiness: readinessChecks(deps),
    limitsDb: deps.db,
    ...options
  })
  await app.register(identityPlugin, {
    db: deps.db,
    signer: deps.signer,
    publicKeys,
    refreshTokenTtlDays: options.refreshTokenTtlDays ?? 30,
    authPerMinute: options.authPerMinute ?? 10,
    limitStore: options.limitStore,
    presence: deps.presence ?? nobodyOnline
  })
  return app
}
