import type { Kysely } from 'kysely'
import type { EventBus } from '@chat/bus'
import type { Database } from '@chat/db'
import { identityPlugin } from '@chat/identity'
import { messagesPlugin } from '@chat/messages'
import { createRoomEventPublisher } from '@chat/room-events'
import { roomsPlugin } from '@chat/rooms'
import {
  createServiceApp,
  readinessChecks,
  createTokenVerifier,
  staticKeyResolver,
  type ServiceApp,
  type CommonAppOptions,
  type TokenSigner
} from '@chat/service-kit'

export interface StandaloneDeps {
  db: Kysely<Database>
  bus: EventBus
  signer: TokenSigner
}

export interface StandaloneOptions extends CommonAppOptions {
  refreshTokenTtlDays?: number
  authPerMinute?: number
  maxAvatarBytes?: number
}

/** Every service plugin on one Fastify instance: the whole API on one port. */
export async function buildStandaloneApp(deps: StandaloneDeps, options: StandaloneOptions = {}): Promise<ServiceApp> {
  const app = await createServiceApp({
    title: 'Chat API',
    description: 'Rooms, messages, reactions and realtime delivery. Standalone process: every service on one port.',
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
  // One publisher for every plugin: their events share one batch of published_at marks.
  const publisher = createRoomEventPublisher({ db: deps.db, bus: deps.bus, logger: app.log })
  app.addHook('onClose', () => publisher.close())
  await app.register(roomsPlugin, { db: deps.db, publisher, maxAvatarBytes: options.maxAvatarBytes })
  await app.register(messagesPlugin, { db: deps.db, bus: deps.bus, publisher })
  return app
}
