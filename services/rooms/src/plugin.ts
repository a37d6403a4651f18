import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import { limits } from '@chat/contracts'
import type { Database } from '@chat/db'
import type { RoomEventPublisher } from '@chat/room-events'
import { avatarsRoutes } from './avatars.routes.js'
import { createSemaphore } from './avatars.service.js'
import { defaultAvatarLimits, type AvatarLimits } from './image.js'
import { directRoutes } from './direct.routes.js'
import { roomsRoutes } from './rooms.routes.js'

export interface RoomsPluginOptions {
  db: Kysely<Database>
  /** Publishes committed events; whoever made it closes it (buildApp, or the standalone process). */
  publisher: RoomEventPublisher
  /** Largest avatar upload (413 beyond); 5 MiB by default. */
  maxAvatarBytes?: number
  imageLimits?: AvatarLimits
}

/** The rooms service: rooms, participants, read positions and avatars. Needs `app.authenticate` (service-kit). */
export const roomsPlugin: FastifyPluginAsyncTypebox<RoomsPluginOptions> = async (app, options) => {
  const { db, publisher } = options
  await app.register(roomsRoutes, { db, publisher })
  await app.register(directRoutes, { db, publisher })
  await app.register(avatarsRoutes, {
    db,
    publisher,
    imageLimits: options.imageLimits ?? defaultAvatarLimits,
    // Decoding takes up to 4 bytes a pixel: at most two at a time per process.
    decoding: createSemaphore(2),
    maxUploadBytes: options.maxAvatarBytes ?? limits.avatarBytes
  })
}
