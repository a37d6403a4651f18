import type { AddressInfo } from 'node:net'
import { createInProcessBus, type EventBus } from '@chat/bus'
import { createDb, migrateToLatest } from '@chat/db'
import { createTokenSigner, generateSigningKey, type ServiceApp } from '@chat/service-kit'
import { buildStandaloneApp, type StandaloneOptions } from '../src/app.js'

interface TeardownHost {
  teardown(fn: () => unknown): void
}

/** The standalone app on an in-memory PGlite and the in-process bus, closed when the test ends. */
export async function standalone(t: TeardownHost, options: StandaloneOptions = {}): Promise<{ app: ServiceApp; bus: EventBus }> {
  const database = await createDb('memory://')
  await migrateToLatest(database.db)
  const bus = createInProcessBus()
  const app = await buildStandaloneApp({ db: database.db, bus, signer: createTokenSigner(generateSigningKey(), 900) }, { logger: false, ...options })
  t.teardown(async () => {
    await app.close()
    await bus.close()
    await database.destroy()
  })
  return { app, bus }
}

/** The same, listening on a free port of 127.0.0.1 (for sockets and the typed client); its base URL. */
export async function listeningStandalone(t: TeardownHost, options: StandaloneOptions = {}): Promise<{ app: ServiceApp; baseUrl: string }> {
  const { app } = await standalone(t, options)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}
