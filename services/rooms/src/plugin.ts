import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import { limits } from '@chat/contracts'
import type { Database } from '@chat/db'
import type { RoomEventPublisher } from '@chat/room-events'
import { avatarsRoutes } from './avatars.routes.js'
import type { AvatarLimits } from './image.js'
import { roomsRoutes } from './rooms.routes.js'

export interface RoomsPluginOptions {
  db: Kysely<Database>
  publisher: RoomEventPublisher
  /** Largest avatar upload (413 beyond); 5 MiB by default. */
  maxAvatarBytes?: number
  imageLimits?: AvatarLimits
}

/** The rooms service: rooms, participants, read positions and avatars. Needs `app.authenticate` (service-kit). */
export const roomsPlugin: FastifyPluginAsyncTypebox<RoomsPluginOptions> = async (app, options) => {
  await app.register(roomsRoutes, { db: options.db, publisher: options.publisher })
  await app.register(avatarsRoutes, {
    db: options.db,
    publisher: options.publisher,
    maxUploadBytes: options.maxAvatarBytes ?? limits.avatarBytes,
    imageLimits: options.imageLimits
  })
}
