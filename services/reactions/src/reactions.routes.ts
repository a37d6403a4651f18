import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { callerOf } from '@chat/service-kit'
import { listReactions, removeReaction, setReaction, type ReactionsContext } from './reactions.service.js'
import { reactionsSchemas } from './reactions.schemas.js'

interface SchemaIssue {
  keyword?: string
  instancePath?: string
}

/**
 * A body whose only fault is a reaction name outside the list is left to the
 * handler: that is the operation's own rule (400 `invalid_reaction` with
 * `allowed`), checked after 404 and 403. Any other fault is thrown as the
 * validation error it is.
 */
function throwUnlessOnlyTheName(request: FastifyRequest): void {
  const error = request.validationError as (Error & { validation?: SchemaIssue[]; validationContext?: string }) | undefined
  if (!error) return
  const body = request.body as { reaction?: unknown } | undefined
  const onlyTheName =
    error.validationContext === 'body' &&
    typeof body?.reaction === 'string' &&
    (error.validation ?? []).length > 0 &&
    (error.validation ?? []).every((issue) => issue.keyword === 'enum' && issue.instancePath === '/reaction')
  if (!onlyTheName) throw error
}

export const reactionsRoutes: FastifyPluginAsyncTypebox<ReactionsContext> = async (app, context) => {
  const schemas = reactionsSchemas(context.reactionList)

  app.get('/messages/:message_id/reaction', { schema: schemas.listReactions, onRequest: app.authenticate }, async (request) => {
    return listReactions(context, { messageId: request.params.message_id, userId: callerOf(request).id })
  })

  app.post(
    '/messages/:message_id/reaction',
    { schema: schemas.setReaction, attachValidation: true, onRequest: app.authenticate },
    async (request, reply) => {
      throwUnlessOnlyTheName(request)
      const result = await setReaction(context, {
        messageId: request.params.message_id,
        userId: callerOf(request).id,
        reaction: request.body.reaction,
        requestId: request.id
      })
      return reply.code(result.status).send(result.reaction)
    }
  )

  app.delete('/messages/:message_id/reaction', { schema: schemas.removeReaction, onRequest: app.authenticate }, async (request, reply) => {
    await removeReaction(context, { messageId: request.params.message_id, userId: callerOf(request).id, requestId: request.id })
    return reply.code(204).send(null)
  })
}
