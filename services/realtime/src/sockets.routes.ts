import type { FastifyPluginAsync } from 'fastify'
import type { WebSocket } from 'ws'
import { openRoomSocketSchema, openSocketSchema, type RoomSocketParams } from './sockets.schemas.js'
import type { UpgradeRequest } from './upgrade-request.js'

/** Who takes the upgraded sockets (the gateway). */
export interface SocketAcceptor {
  accept(socket: WebSocket, request: UpgradeRequest, roomId: string | undefined): void
}

/**
 * `/ws/` and `/ws/chat/:room_id/`. Validation errors are attached, not
 * answered: a refused socket is accepted first and then closed with its
 * code, which browsers can read (an HTTP 400 they cannot).
 */
export const socketRoutes: FastifyPluginAsync<{ acceptor: SocketAcceptor }> = async (app, { acceptor }) => {
  // @fastify/websocket hides every socket route from the OpenAPI document;
  // these two are the API's, so they are shown (this hook runs after its own).
  app.addHook('onRoute', (route) => {
    if (route.websocket && route.schema) (route.schema as { hide?: boolean }).hide = false
  })
  const socketRoute = { websocket: true, attachValidation: true, config: { rateLimit: false } } as const
  // Copies: the plugin's hook writes into a route's schema object.
  app.get('/ws/', { ...socketRoute, schema: { ...openSocketSchema } }, (socket, request) => acceptor.accept(socket, request, undefined))
  app.get<{ Params: RoomSocketParams }>('/ws/chat/:room_id/', { ...socketRoute, schema: { ...openRoomSocketSchema } }, (socket, request) =>
    acceptor.accept(socket, request, request.params.room_id)
  )
}
