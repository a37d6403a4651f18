import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import type { EventBus } from '@chat/bus'
import { limits } from '@chat/contracts'
import type { Database } from '@chat/db'
import type { RoomEventPublisher } from '@chat/room-events'
import { avatarsRoutes } from './avatars.routes.js'
import { createSemaphore, type Semaphore } from './avatars.service.js'
import { defaultAvatarLimits, type AvatarLimits } from './image.js'
import { directRoutes } from './direct.routes.js'
import { createCreatorNotifier } from './join-notices.js'
import { participantsRoutes } from './participants.routes.js'
import { roomsRoutes } from './rooms.routes.js'

export interface RoomsPluginOptions {
  db: Kysely<Database>
  /** Carries the `room.joined` notices to a room's creator (core NATS). */
  bus: EventBus
  /** Publishes committed events; whoever made it closes it (buildApp, or the standalone process). */
  publisher: RoomEventPublisher
  /** Largest avatar upload (413 beyond); 5 MiB by default. */
  maxAvatarBytes?: number
  imageLimits?: AvatarLimits
  /** Uploads that may wait for a decoding slot (503 beyond); 8 by default. */
  avatarDecodeQueue?: number
  /** The decoding slots and their queue; made from `avatarDecodeQueue` when left out (tests hold it). */
  decoding?: Semaphore
}

/** The rooms service: rooms, participants, read positions and avatars. Needs `app.authenticate` (service-kit). */
export const roomsPlugin: FastifyPluginAsyncTypebox<RoomsPluginOptions> = async (app, options) => {
  const { db, publisher } = options
  const notifyCreator = createCreatorNotifier(options.bus, app.log)
  await app.register(roomsRoutes, { db, publisher, notifyCreator })
  await app.register(directRoutes, { db, publisher, notifyCreator })
  await app.register(participantsRoutes, { db, publisher, notifyCreator })
  await app.register(avatarsRoutes, {
    db,
    publisher,
    imageLimits: options.imageLimits ?? defaultAvatarLimits,
    // Decoding takes up to 4 bytes a pixel: at most two at a time per
    // process, and a bounded number of uploads (each up to maxAvatarBytes)
    // waiting for them.
    decoding: options.decoding ?? createSemaphore(2, options.avatarDecodeQueue ?? 8),
    maxUploadBytes: options.maxAvatarBytes ?? limits.avatarBytes
  })
}
