import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import type { BusSubscription, EventBus } from '@chat/bus'
import { limits, queueGroups, subjects } from '@chat/contracts'
import type { Database } from '@chat/db'
import type { Tracer } from '@opentelemetry/api'
import type { RoomEventPublisher } from '@chat/room-events'
import { messagesRoutes } from './messages.routes.js'
import type { MessagesContext } from './messages.service.js'
import { runSendBatch } from './messages.repository.js'
import { createMentionNotifier } from './mention-notices.js'
import { searchRoutes } from './search.routes.js'
import { SendBatcher } from './send-batcher.js'
import { createSendRequestHandler } from './send-request.handler.js'

export interface MessagesPluginOptions {
  db: Kysely<Database>
  bus: EventBus
  /** Publishes committed events; whoever made it closes it (buildApp, or the standalone process). */
  publisher: RoomEventPublisher
  /** Longest message text after trimming, in characters (code points). Default 4000. */
  maxTextChars?: number
  /**
   * Send requests handled at once by this process. A bus subscription hands
   * its handler one request at a time, so this many members join the
   * `messages` queue group. Default 8.
   */
  sendConcurrency?: number
  /**
   * Subject of the send requests. Default `svc.messages.send`; deployments
   * that share one NATS server (tests running side by side) each use their own.
   */
  sendSubject?: string
  /** Most sends committed together (group commit); default 128. */
  sendBatchMax?: number
  /** Send batches in the database at once; default 1 (send-batcher.ts says why). */
  sendBatchesInFlight?: number
  /** The process's tracer when it traces (a span per send batch); absent, sends do no tracing work. */
  tracer?: Tracer
}

/**
 * The messages service: `/messages/:room_id/...` and `/search/messages/` over HTTP, and
 * `svc.messages.send` (queue group `messages`) over the bus for the realtime
 * gateway. Needs `app.authenticate` (service-kit).
 */
export const messagesPlugin: FastifyPluginAsyncTypebox<MessagesPluginOptions> = async (app, options) => {
  const maxTextChars = options.maxTextChars ?? limits.messageTextChars
  const notifyMentions = createMentionNotifier(options.bus, app.log)
  const context: MessagesContext = {
    db: options.db,
    publisher: options.publisher,
    maxTextChars,
    notifyMentions,
    batcher: new SendBatcher({
      run: (items) => runSendBatch(options.db, items),
      publisher: options.publisher,
      notifyMentions,
      maxTextChars,
      maxBatch: options.sendBatchMax,
      maxInFlight: options.sendBatchesInFlight,
      logger: app.log,
      tracer: options.tracer
    })
  }
  await app.register(messagesRoutes, context)
  await app.register(searchRoutes, context)

  const handler = createSendRequestHandler(context, app.log)
  const subscriptions: BusSubscription[] = []
  app.addHook('onClose', async () => {
    await Promise.all(subscriptions.map((subscription) => subscription.unsubscribe()))
  })
  for (let member = 0; member < (options.sendConcurrency ?? 8); member++) {
    subscriptions.push(await options.bus.serve(options.sendSubject ?? subjects.messagesSend(), handler, { queue: queueGroups.messages }))
  }
}
