import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { limits } from '@chat/contracts'
import { callerOf } from '@chat/service-kit'
import { deleteMessage, editMessage, listMessages, listThread, sendMessage, type ListResult, type MessagesContext } from './messages.service.js'
import { deleteMessageSchema, editMessageSchema, listMessagesSchema, listThreadSchema, sendMessageSchema } from './messages.schemas.js'

/** RFC 8288 `Link` value for a page of messages at `base`; relative URLs that keep the page size. */
function pageLinks(base: string, limit: number, page: ListResult): string | undefined {
  const links: string[] = []
  if (page.prevBeforeSeq !== undefined) links.push(`<${base}?before_seq=${page.prevBeforeSeq}&limit=${limit}>; rel="prev"`)
  if (page.nextAfterSeq !== undefined) links.push(`<${base}?after_seq=${page.nextAfterSeq}&limit=${limit}>; rel="next"`)
  return links.length > 0 ? links.join(', ') : undefined
}

export const messagesRoutes: FastifyPluginAsyncTypebox<MessagesContext> = async (app, context) => {
  app.get('/messages/:room_id', { schema: listMessagesSchema, onRequest: app.authenticate }, async (request, reply) => {
    const { room_id: roomId } = request.params
    const limit = request.query.limit ?? limits.pageSizeDefault
    const page = await listMessages(context, {
      roomId,
      userId: callerOf(request).id,
      limit,
      beforeSeq: request.query.before_seq,
      afterSeq: request.query.after_seq
    })
    const link = pageLinks(`/messages/${roomId}/`, limit, page)
    if (link) reply.header('link', link)
    return page.messages
  })

  app.get('/messages/:room_id/:message_id/thread', { schema: listThreadSchema, onRequest: app.authenticate }, async (request, reply) => {
    const { room_id: roomId, message_id: messageId } = request.params
    const limit = request.query.limit ?? limits.pageSizeDefault
    const page = await listThread(context, {
      roomId,
      messageId,
      userId: callerOf(request).id,
      limit,
      beforeSeq: request.query.before_seq,
      afterSeq: request.query.after_seq
    })
    const link = pageLinks(`/messages/${roomId}/${messageId}/thread/`, limit, page)
    if (link) reply.header('link', link)
    return page.messages
  })

  app.post('/messages/:room_id', { schema: sendMessageSchema, onRequest: app.authenticate }, async (request, reply) => {
    const result = await sendMessage(context, {
      roomId: request.params.room_id,
      senderId: callerOf(request).id,
      text: request.body.text,
      clientMsgId: request.body.client_msg_id,
      replyTo: request.body.reply_to,
      mentions: request.body.mentions,
      requestId: request.id
    })
    return reply.code(result.status).send(result.message)
  })

  app.patch('/messages/:room_id/:message_id', { schema: editMessageSchema, onRequest: app.authenticate }, async (request) => {
    return editMessage(context, {
      roomId: request.params.room_id,
      messageId: request.params.message_id,
      userId: callerOf(request).id,
      text: request.body.text,
      mentions: request.body.mentions,
      requestId: request.id
    })
  })

  app.delete('/messages/:room_id/:message_id', { schema: deleteMessageSchema, onRequest: app.authenticate }, async (request, reply) => {
    await deleteMessage(context, {
      roomId: request.params.room_id,
      messageId: request.params.message_id,
      userId: callerOf(request).id,
      requestId: request.id
    })
    return reply.code(204).send(null)
  })
}
