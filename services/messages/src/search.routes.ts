import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { limits } from '@chat/contracts'
import { callerOf } from '@chat/service-kit'
import type { MessagesContext } from './messages.service.js'
import { searchMessagesSchema } from './search.schemas.js'
import { searchMessages } from './search.service.js'

export const searchRoutes: FastifyPluginAsyncTypebox<MessagesContext> = async (app, context) => {
  app.get('/search/messages', { schema: searchMessagesSchema, onRequest: app.authenticate }, async (request, reply) => {
    const { q, room_id: roomId, before } = request.query
    const limit = request.query.limit ?? limits.searchPageDefault
    const page = await searchMessages(context, { userId: callerOf(request).id, q, roomId, limit, before })
    if (page.next) {
      const next = new URLSearchParams({ q, limit: String(limit), ...(roomId ? { room_id: roomId } : {}), before: page.next })
      reply.header('link', `</search/messages/?${next.toString()}>; rel="next"`)
    }
    return page.hits
  })
}
