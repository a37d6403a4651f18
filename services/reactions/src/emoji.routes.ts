import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { ReactionList } from './reaction-list.js'
import { listEmojiSchema } from './emoji.schemas.js'

/** True when an If-None-Match header names this ETag (or is `*`); weak comparison, as RFC 9110 asks for If-None-Match. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false
  return ifNoneMatch
    .split(',')
    .map((candidate) => candidate.trim().replace(/^W\//, ''))
    .some((candidate) => candidate === etag || candidate === '*')
}

/** `GET /emoji/`: the reaction list, public and cacheable; it only changes when the service restarts with another file. */
export const emojiRoutes: FastifyPluginAsyncTypebox<{ reactionList: ReactionList }> = async (app, { reactionList }) => {
  // A constant answer from memory: no reason to spend the anonymous per-address budget on it.
  app.get('/emoji', { schema: listEmojiSchema, config: { rateLimit: false } }, async (request, reply) => {
    reply.header('etag', reactionList.etag).header('cache-control', 'public, max-age=3600')
    if (etagMatches(request.headers['if-none-match'], reactionList.etag)) return reply.code(304).send(null)
    return [...reactionList.entries]
  })
}
