import type { Kysely } from 'kysely'
import type { EventBus } from '@chat/bus'
import type { Database } from '@chat/db'
import { appRoomEventPublisher, type EventTracing, type RoomEventPublisher } from '@chat/room-events'
import { createServiceApp, readinessChecks, type ServiceApp, type CommonAppOptions, type TokenVerifier } from '@chat/service-kit'
import type { Semaphore } from './avatars.service.js'
import type { AvatarLimits } from './image.js'
import { roomsPlugin } from './plugin.js'

export interface RoomsDeps {
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

export interface RoomsAppOptions extends CommonAppOptions {
  maxAvatarBytes?: number
  imageLimits?: AvatarLimits
  /** Uploads that may wait for a decoding slot (503 beyond). */
  avatarDecodeQueue?: number
  /** The decoding slots and their queue, when the caller holds them (tests); made from `avatarDecodeQueue` otherwise. */
  avatarDecoding?: Semaphore
}

/** The rooms service on its own Fastify instance (main.ts and tests). */
export async function buildApp(deps: RoomsDeps, options: RoomsAppOptions = {}): Promise<ServiceApp> {
  const app = await createServiceApp({
    title: 'Chat rooms service',
    verifier: deps.verifier,
    readiness: readinessChecks(deps),
    limitsDb: deps.db,
    ...options
  })
  await app.register(roomsPlugin, {
    db: deps.db,
    bus: deps.bus,
    publisher: appRoomEventPublisher(app, deps),
    maxAvatarBytes: options.maxAvatarBytes,
    imageLimits: options.imageLimits,
    avatarDecodeQueue: options.avatarDecodeQueue,
    decoding: options.avatarDecoding
  })
  return app
}
