import type { Kysely } from 'kysely'
import type { EventBus } from '@chat/bus'
import type { Database } from '@chat/db'
import { createServiceApp, readinessChecks, type CommonAppOptions, type ServiceApp, type TokenVerifier } from '@chat/service-kit'
import { realtimePlugin, type RealtimePluginOptions } from './plugin.js'

export interface RealtimeDeps {
  /** `/readyz`'s database check on a connection of its own (`DbHandle.ping`); through the pool when left out. */
  databasePing?: () => Promise<void>
  db: Kysely<Database>
  bus: EventBus
  /** Verifies access tokens with the identity service's public keys. */
  verifier: TokenVerifier
}

export interface RealtimeAppOptions extends CommonAppOptions, Omit<RealtimePluginOptions, 'db' | 'bus' | 'verifier'> {}

/** The realtime gateway on its own Fastify instance (main.ts, tests and the benchmark). */
export async function buildApp(deps: RealtimeDeps, options: RealtimeAppOptions = {}): Promise<ServiceApp> {
  const app = await createServiceApp({
    title: 'Chat realtime gateway',
    description: 'WebSockets: `/ws/` carries any number of rooms, `/ws/chat/:room_id/` one room.',
    verifier: deps.verifier,
    readiness: readinessChecks(deps),
    limitsDb: deps.db,
    ...options
  })
  await app.register(realtimePlugin, { ...options, db: deps.db, bus: deps.bus, verifier: deps.verifier })
  return app
}

/** Plugin options from the gateway's configuration variables (also read by the standalone process). */
export function realtimeOptions(config: {
  RATE_LIMIT_WS_FPS: number
  RATE_LIMIT_WS_BURST: number
  WS_MAX_FRAME_BYTES: number
  WS_SEND_QUEUE_BYTES: number
  WS_HEARTBEAT_MS: number
  WS_MAX_REPLAY_EVENTS: number
  EVENT_RETENTION_DAYS: number
  PRESENCE_TTL_MS: number
  PRESENCE_DEBOUNCE_MS: number
}): Omit<RealtimePluginOptions, 'db' | 'bus' | 'verifier'> {
  return {
    rateLimitFps: config.RATE_LIMIT_WS_FPS,
    rateLimitBurst: config.RATE_LIMIT_WS_BURST,
    maxFrameBytes: config.WS_MAX_FRAME_BYTES,
    sendQueueBytes: config.WS_SEND_QUEUE_BYTES,
    heartbeatMs: config.WS_HEARTBEAT_MS,
    maxReplayEvents: config.WS_MAX_REPLAY_EVENTS,
    retentionDays: config.EVENT_RETENTION_DAYS,
    presenceTtlMs: config.PRESENCE_TTL_MS,
    presenceDebounceMs: config.PRESENCE_DEBOUNCE_MS
  }
}
