import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { callerOf } from '@chat/service-kit'
import { blockUserSchema, listBlocksSchema, unblockUserSchema, updateMeSchema } from './consent.schemas.js'
import { blockUser, getBlocks, unblockUser, updateMe, type ConsentContext } from './consent.service.js'

/** The caller's consent: who may put them into rooms, and whom they blocked. */
export const consentRoutes: FastifyPluginAsyncTypebox<ConsentContext> = async (app, context) => {
  app.patch('/users/me', { schema: updateMeSchema, onRequest: app.authenticate }, async (request) => {
    return updateMe(context, callerOf(request).id, { roomsInvite: request.body.rooms_invite })
  })

  app.get('/users/me/blocks', { schema: listBlocksSchema, onRequest: app.authenticate }, async (request) => {
    return getBlocks(context, callerOf(request).id)
  })

  app.put('/users/me/blocks/:user_id', { schema: blockUserSchema, onRequest: app.authenticate }, async (request) => {
    const block = await blockUser(context, callerOf(request).id, request.params.user_id)
    request.log.info({ blocked: request.params.user_id }, 'user blocked')
    return block
  })

  app.delete('/users/me/blocks/:user_id', { schema: unblockUserSchema, onRequest: app.authenticate }, async (request, reply) => {
    await unblockUser(context, callerOf(request).id, request.params.user_id)
    return reply.code(204).send(null)
  })
}
