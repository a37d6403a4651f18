import type { Kysely } from 'kysely'
import type { EventBus } from '@chat/bus'
import type { Database } from '@chat/db'
import { appRoomEventPublisher, type EventTracing, type RoomEventPublisher } from '@chat/room-events'
import { createServiceApp, readinessChecks, type ServiceApp, type CommonAppOptions, type TokenVerifier } from '@chat/service-kit'
import { messagesPlugin } from './plugin.js'

export interface MessagesDeps {
  /** `/readyz`'s database check on a connection of its own (`DbHandle.ping`); through the pool when left out. */
  databasePing?: () => Promise<void>
  db: Kysely<Database>
  bus: EventBus
  /** Verifies access tokens with the identity service's public keys. */
  verifier: TokenVerifier
  /** Publishes committed events; when left out, the app makes one and closes it on close. */
  publisher?: RoomEventPublisher
  /** When the process traces (main.ts, the trace test). */
  eventTracing?: EventTracing
}

export interface MessagesAppOptions extends CommonAppOptions {
  maxTextChars?: number
  sendConcurrency?: number
  sendSubject?: string
  sendBatchMax?: number
  sendBatchesInFlight?: number
}

/** The messages service on its own Fastify instance (main.ts, tests and the benchmark). */
export async function buildApp(deps: MessagesDeps, options: MessagesAppOptions = {}): Promise<ServiceApp> {
  const app = await createServiceApp({
    title: 'Chat messages service',
    verifier: deps.verifier,
    readiness: readinessChecks(deps),
    limitsDb: deps.db,
    ...options
  })
  await app.register(messagesPlugin, {
    db: deps.db,
    bus: deps.bus,
    publisher: appRoomEventPublisher(app, deps),
    maxTextChars: options.maxTextChars,
    sendConcurrency: options.sendConcurrency,
    sendSubject: options.sendSubject,
    sendBatchMax: options.sendBatchMax,
    sendBatchesInFlight: options.sendBatchesInFlight,
    tracer: deps.eventTracing?.tracer
  })
  return app
}
