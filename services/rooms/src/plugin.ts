import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import type { EventBus } from '@chat/bus'
import { limits } from '@chat/contracts'
import type { Database } from '@chat/db'
import type { RoomEventPublisher } from '@chat/room-events'
import { PresenceTracker, type PresenceReader } from '@chat/service-kit'
import { avatarsRoutes } from './avatars.routes.js'
import { createSemaphore, type Semaphore } from './avatars.service.js'
import { defaultAvatarLimits, type AvatarLimits } from './image.js'
import { directRoutes } from './direct.routes.js'
import { createCreatorNotifier } from './join-notices.js'
import { participantsRoutes } from './participants.routes.js'
import { addPresence } from './presence-fields.js'
import { createReadNotifier } from './read-notices.js'
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
  /**
   * Who is online, for the participants' `online` and `last_seen_at`. The
   * standalone process passes the tracker its gateway feeds; made from `bus`
   * (and closed with the app) when left out.
   */
  presence?: PresenceReader
}

/** The rooms service: rooms, participants, read positions and avatars. Needs `app.authenticate` (service-kit). */
export const roomsPlugin: FastifyPluginAsyncTypebox<RoomsPluginOptions> = async (app, options) => {
  const { db, publisher } = options
  const notifyCreator = createCreatorNotifier(options.bus, app.log)
  let presence = options.presence
  if (!presence) {
    const tracker = new PresenceTracker(options.bus)
    await tracker.start()
    app.addHook('onClose', () => tracker.close())
    presence = tracker
  }
  const reader = presence
  // Every room this plugin answers with, whichever route: one place decides the presence fields.
  app.addHook('preSerialization', async (_request, reply, payload) => {
    if (reply.statusCode < 300) addPresence(payload, reader)
    return payload
  })
  await app.register(roomsRoutes, { db, publisher, notifyCreator, notifyRead: createReadNotifier(options.bus, app.log) })
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
