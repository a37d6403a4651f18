import type { Kysely } from 'kysely'
import type { EventBus } from '@chat/bus'
import type { Database } from '@chat/db'
import { appRoomEventPublisher, type EventTracing, type RoomEventPublisher } from '@chat/room-events'
import { createServiceApp, readinessChecks, type ServiceApp, type CommonAppOptions, type TokenVerifier } from '@chat/service-kit'
import { reactionsPlugin } from './plugin.js'
import { loadReactionList, type ReactionList } from './reaction-list.js'

export interface ReactionsDeps {
  /** `/readyz`'s database check on a connection of its own (`DbHandle.ping`); through the pool when left out. */
  databasePing?: () => Promise<void>
  db: Kysely<Database>
  bus: EventBus
  /** Verifies access tokens with the identity service's public keys. */
  verifier: TokenVerifier
  /** Publishes committed events; when left out, the app makes one and closes it on close. */
  publisher?: RoomEventPublisher
  /** When the process traces: events are published in their request's trace, the relay links re-publishes. */
  eventTracing?: EventTracing
}

export interface ReactionsAppOptions extends CommonAppOptions {
  /** The allowed reactions; this package's `assets/reaction_list.json` when left out. */
  reactionList?: ReactionList
}

/** The reactions service on its own Fastify instance (main.ts and tests). */
export async function buildApp(deps: ReactionsDeps, options: ReactionsAppOptions = {}): Promise<ServiceApp> {
  const { reactionList = loadReactionList(), ...appOptions } = options
  const app = await createServiceApp({
    title: 'Chat reactions service',
    verifier: deps.verifier,
    readiness: readinessChecks(deps),
    limitsDb: deps.db,
    ...appOptions
  })
  await app.register(reactionsPlugin, { db: deps.db, publisher: appRoomEventPublisher(app, deps), reactionList })
  return app
}
