import { createTestDatabase } from '@chat/db/testing'
import { createTokenSigner, generateSigningKey, type ServiceApp, type TokenSigner } from '@chat/service-kit'
import type { Session } from '@chat/contracts'
import type { Kysely } from 'kysely'
import type { Database } from '@chat/db'
import { buildApp, type IdentityAppOptions } from '../src/app.js'

export interface TestContext {
  teardown(fn: () => unknown): void
}

export interface Harness {
  app: ServiceApp
  db: Kysely<Database>
  signer: TokenSigner
  register: (displayName: string, password?: string) => Promise<Session>
}

/** The identity app on its own fresh database, closed when the test ends. */
export async function build(t: TestContext, options: IdentityAppOptions & { accessTtlSeconds?: number } = {}): Promise<Harness> {
  const { db } = await createTestDatabase(t)
  const signer = createTokenSigner(generateSigningKey(), options.accessTtlSeconds ?? 900)
  const app = await buildApp({ db, signer }, { logger: false, ...options })
  t.teardown(() => app.close())
  await app.ready()
  return {
    app,
    db,
    signer,
    async register(displayName, password = 'correct horse battery') {
      const response = await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: displayName, password } })
      if (response.statusCode !== 201) throw new Error(`register ${displayName}: ${response.statusCode} ${response.body}`)
      return response.json<Session>()
    }
  }
}

export function bearer(session: Session | string): { authorization: string } {
  return { authorization: `Bearer ${typeof session === 'string' ? session : session.access_token}` }
}

export function decodeJwtPart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
}
