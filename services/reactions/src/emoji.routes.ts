import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { etagMatches } from '@chat/service-kit'
import type { ReactionList } from './reaction-list.js'
import { listEmojiSchema } from './emoji.schemas.js'

/** `GET /emoji/`: the reaction list, public and cacheable; it only changes when the service restarts with another file. */
export const emojiRoutes: FastifyPluginAsyncTypebox<{ reactionList: ReactionList }> = async (app, { reactionList }) => {
  // A constant answer from memory: no reason to spend the anonymous per-address budget on it.
  app.get('/emoji', { schema: listEmojiSchema, config: { rateLimit: false } }, async (request, reply) => {
    reply.header('etag', reactionList.etag).header('cache-control', 'public, max-age=3600')
    if (etagMatches(request.headers['if-none-match'], reactionList.etag)) return reply.code(304).send(null)
    return [...reactionList.entries]
  })
}
