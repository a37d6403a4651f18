import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import type { Database } from '@chat/db'
import type { RoomEventPublisher } from '@chat/room-events'
import { emojiRoutes } from './emoji.routes.js'
import type { ReactionList } from './reaction-list.js'
import { reactionsRoutes } from './reactions.routes.js'

export interface ReactionsPluginOptions {
  db: Kysely<Database>
  /** Publishes committed events; whoever made it closes it (buildApp, or the standalone process). */
  publisher: RoomEventPublisher
  /** The allowed reactions, from {@link loadReactionList}: validation, `GET /emoji/` and the OpenAPI enum. */
  reactionList: ReactionList
}

/**
 * The reactions service: `/messages/:message_id/reaction/` and the public
 * `/emoji/`. Needs `app.authenticate` (service-kit).
 */
export const reactionsPlugin: FastifyPluginAsyncTypebox<ReactionsPluginOptions> = async (app, options) => {
  await app.register(reactionsRoutes, { db: options.db, publisher: options.publisher, reactionList: options.reactionList })
  await app.register(emojiRoutes, { reactionList: options.reactionList })
}
