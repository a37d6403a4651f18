import type { Kysely } from 'kysely'
import { webAppPlugin } from './web-app.js'
import type { EventBus } from '@chat/bus'
import type { Database } from '@chat/db'
import { identityPlugin } from '@chat/identity'
import { messagesPlugin } from '@chat/messages'
import { loadReactionList, reactionsPlugin, type ReactionList } from '@chat/reactions'
import { realtimePlugin, type RealtimePluginOptions } from '@chat/realtime'
import { createRoomEventPublisher, type EventTracing } from '@chat/room-events'
import { roomsPlugin } from '@chat/rooms'
import {
  createServiceApp,
  readinessChecks,
  createTokenVerifier,
  PresenceTracker,
  staticKeyResolver,
  type ServiceApp,
  type CommonAppOptions,
  type TokenSigner
} from '@chat/service-kit'

export interface StandaloneDeps {
  db: Kysely<Database>
  bus: EventBus
  signer: TokenSigner
  /** When the process traces (OTEL_EXPORTER_OTLP_ENDPOINT). */
  eventTracing?: EventTracing
}

export interface StandaloneOptions extends CommonAppOptions {
  refreshTokenTtlDays?: number
  authPerMinute?: number
  maxAvatarBytes?: number
  avatarDecodeQueue?: number
  /** The allowed reactions; default: the reactions service's `reaction_list.json`. */
  reactionList?: ReactionList
  /** Gateway settings (send queue, frame limits, heartbeat, replay, retention). */
  realtime?: Omit<RealtimePluginOptions, 'db' | 'bus' | 'verifier'>
  /** Folder of the built web app to serve at `/`; nothing is served there when unset. */
  webDir?: string
}

/** Every service plugin on one Fastify instance: the whole API on one port. */
export async function buildStandaloneApp(deps: StandaloneDeps, options: StandaloneOptions = {}): Promise<ServiceApp> {
  const verifier = createTokenVerifier(staticKeyResolver([deps.signer.key]))
  const app = await createServiceApp({
    title: 'Chat API',
    description: 'Rooms, messages, reactions and realtime delivery. Standalone process: every service on one port.',
    verifier,
    readiness: readinessChecks(deps),
    limitsDb: deps.db,
    ...options
  })
  // One view of who is online, fed by the gateway below over the in-process bus, read by identity and rooms too.
  const presenceTracker = new PresenceTracker(deps.bus)
  await presenceTracker.start()
  app.addHook('onClose', () => presenceTracker.close())
  await app.register(identityPlugin, {
    db: deps.db,
    presence: presenceTracker,
    signer: deps.signer,
    refreshTokenTtlDays: options.refreshTokenTtlDays ?? 30,
    authPerMinute: options.authPerMinute ?? 10,
    limitStore: options.limitStore
  })
  // One publisher for every plugin: their events leave the outbox in one batch.
  const publisher = createRoomEventPublisher({ db: deps.db, bus: deps.bus, logger: app.log, tracing: deps.eventTracing })
  app.addHook('onClose', () => publisher.close())
  await app.register(roomsPlugin, { db: deps.db, bus: deps.bus, publisher, presence: presenceTracker, maxAvatarBytes: options.maxAvatarBytes, avatarDecodeQueue: options.avatarDecodeQueue })
  await app.register(messagesPlugin, { db: deps.db, bus: deps.bus, publisher, tracer: deps.eventTracing?.tracer })
  await app.register(reactionsPlugin, { db: deps.db, publisher, reactionList: options.reactionList ?? loadReactionList() })
  await app.register(realtimePlugin, { ...options.realtime, db: deps.db, bus: deps.bus, verifier, tracer: deps.eventTracing?.tracer, presenceTracker })
  if (options.webDir) await app.register(webAppPlugin, { root: options.webDir })
  return app
}
