import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync } from 'fastify'
import websocket from '@fastify/websocket'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import type { Tracer } from '@opentelemetry/api'
import { Histogram } from 'prom-client'
import type { EventBus } from '@chat/bus'
import { subjects } from '@chat/contracts'
import type { Database } from '@chat/db'
import { PresenceTracker, counterFrom, findUser, gaugeFrom, labelledCounterFrom, type TokenVerifier } from '@chat/service-kit'
import { socketCloses } from './errors.js'
import { pruneRoomEvents } from './events.repository.js'
import type { GatewaySettings } from './gateway-context.js'
import { RealtimeGateway } from './gateway.js'
import { coMemberIds, markLastSeen } from './presence.repository.js'
import { roomHistoryInStore } from './room-history.js'
import { createMessagesClient } from './send-request.client.js'
import { socketRoutes } from './sockets.routes.js'

export interface RealtimePluginOptions extends Partial<GatewaySettings> {
  db: Kysely<Database>
  bus: EventBus
  verifier: TokenVerifier
  /** Largest client frame in bytes; a larger one closes the socket with 1009. Default 64 KiB. */
  maxFrameBytes?: number
  /** Ping interval; a peer that misses two pings is dropped. Default 15 s. */
  heartbeatMs?: number
  /** Stored events older than this many days are pruned (the newest of each room is kept); 0 keeps all. Default 30. */
  retentionDays?: number
  /** How often the pruner runs. Default one hour. */
  pruneIntervalMs?: number
  /** How often watched rooms are compared with the store, to send what the bus lost. Default 5 s. */
  reconcileMs?: number
  /**
   * Who is online on every gateway. The standalone process passes the one its
   * other plugins read too, and closes it; made from `bus` (and closed with
   * the app) when left out.
   */
  presenceTracker?: PresenceTracker
  /** The process's tracer when it traces (socket writes and gap fills as spans of each event's trace). */
  tracer?: Tracer
}

declare module 'fastify' {
  interface FastifyInstance {
    realtime: RealtimeGateway
  }
}

const defaults: GatewaySettings = {
  sendQueueBytes: 1024 * 1024,
  maxReplayEvents: 10_000,
  rateLimitFps: 20,
  rateLimitBurst: 50,
  sendTimeoutMs: 10_000,
  sendSubject: subjects.messagesSend(),
  maxRoomsPerSocket: 1_000,
  maxConcurrentSubscribes: 4,
  joinTimeoutMs: 10_000,
  presenceTtlMs: 25_000,
  presenceDebounceMs: 10_000
}

const realtimeGatewayPlugin: FastifyPluginAsync<RealtimePluginOptions> = async (app, options) => {
  const settings: GatewaySettings = {
    sendQueueBytes: options.sendQueueBytes ?? defaults.sendQueueBytes,
    maxReplayEvents: options.maxReplayEvents ?? defaults.maxReplayEvents,
    rateLimitFps: options.rateLimitFps ?? defaults.rateLimitFps,
    rateLimitBurst: options.rateLimitBurst ?? defaults.rateLimitBurst,
    sendTimeoutMs: options.sendTimeoutMs ?? defaults.sendTimeoutMs,
    sendSubject: options.sendSubject ?? defaults.sendSubject,
    maxRoomsPerSocket: options.maxRoomsPerSocket ?? defaults.maxRoomsPerSocket,
    maxConcurrentSubscribes: options.maxConcurrentSubscribes ?? defaults.maxConcurrentSubscribes,
    joinTimeoutMs: options.joinTimeoutMs ?? defaults.joinTimeoutMs,
    presenceTtlMs: options.presenceTtlMs ?? defaults.presenceTtlMs,
    presenceDebounceMs: options.presenceDebounceMs ?? defaults.presenceDebounceMs
  }
  const { db, bus, verifier } = options
  const ownTracker = options.presenceTracker === undefined
  const presenceTracker = options.presenceTracker ?? new PresenceTracker(bus)
  const deliveryLag = deliveryLagHistogram(app)
  const gateway = new RealtimeGateway(
    {
      history: roomHistoryInStore(db),
      bus,
      verifier,
      messages: createMessagesClient(bus, { subject: settings.sendSubject, timeoutMs: settings.sendTimeoutMs }),
      findUser: (userId) => findUser(db, userId),
      logger: app.log,
      presenceTracker,
      coMembers: (userId) => coMemberIds(db, userId),
      markLastSeen: (userIds, at) => markLastSeen(db, userIds, at),
      deliveryLag,
      tracer: options.tracer
    },
    settings
  )
  app.decorate('realtime', gateway)
  // The gateway hears the trackers' sync requests before its own tracker asks.
  await gateway.presence.start()
  if (ownTracker) await presenceTracker.start()
  registerMetrics(app, gateway)

  await app.register(websocket, {
    options: {
      maxPayload: options.maxFrameBytes ?? 64 * 1024,
      perMessageDeflate: false,
      // With the `bearer, <token>` pair the server selects `bearer`, never echoing the token.
      handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false)
    },
    preClose: async function closeSockets(this: { websocketServer: { close(done: () => void): void } }) {
      await gateway.shutdown()
      await new Promise<void>((resolve) => this.websocketServer.close(() => resolve()))
    }
  })

  const heartbeat = setInterval(() => gateway.heartbeat(), options.heartbeatMs ?? 15_000)
  heartbeat.unref()
  const reconcile = everyInterval(options.reconcileMs ?? 5_000, app.log, 'comparing watched rooms with the store failed', () => gateway.reconcile())
  const retentionDays = options.retentionDays ?? 30
  const pruner =
    retentionDays > 0
      ? everyInterval(options.pruneIntervalMs ?? 3_600_000, app.log, 'pruning room events failed', async () => {
          const deleted = await pruneRoomEvents(db, retentionDays, 10_000)
          if (deleted > 0) app.log.info({ deleted, retentionDays }, 'pruned old room events')
        })
      : undefined
  app.addHook('onClose', async () => {
    clearInterval(heartbeat)
    clearInterval(reconcile)
    if (pruner) clearInterval(pruner)
    await gateway.shutdown()
    if (ownTracker) await presenceTracker.close()
  })

  await app.register(socketRoutes, { acceptor: gateway })
}

/**
 * Runs `task` every `ms` until cleared, one run at a time: while the store
 * hangs, runs would otherwise pile up and hold every pooled connection.
 * Failures are logged, never thrown; the next tick tries again.
 */
function everyInterval(ms: number, log: FastifyBaseLogger, failure: string, task: () => Promise<void>): NodeJS.Timeout {
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    task()
      .catch((error: unknown) => log.warn({ err: error }, failure))
      .finally(() => {
        running = false
      })
  }, ms)
  timer.unref()
  return timer
}

/**
 * The realtime gateway as a Fastify plugin: `/ws/` (any number of rooms) and
 * `/ws/chat/:room_id/` (one room). It decorates the app with `realtime` (the
 * gateway, for its stats) and adds its metrics to service-kit's registry.
 */
export const realtimePlugin = fp(realtimeGatewayPlugin, { name: '@chat/realtime', fastify: '5.x' })

/** Seconds from an event's commit (its envelope's time) to its frame written to this gateway's sockets. */
function deliveryLagHistogram(app: FastifyInstance): ((seconds: number) => void) | undefined {
  if (!app.hasDecorator('metrics')) return undefined
  const histogram = new Histogram({
    name: 'realtime_delivery_lag_seconds',
    help: 'from a room event\'s commit to its frame written to the sockets of this gateway (live events)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [app.metrics]
  })
  return (seconds) => histogram.observe(Math.max(0, seconds))
}

function registerMetrics(app: FastifyInstance, gateway: RealtimeGateway): void {
  if (!app.hasDecorator('metrics')) return
  const registry = app.metrics
  const stats = gateway.stats
  gaugeFrom(registry, 'realtime_sockets_open', 'open client sockets', () => stats.socketsOpen)
  gaugeFrom(registry, 'realtime_rooms_watched', 'rooms with a bus subscription on this gateway', () => gateway.watchedRooms)
  const counter = (name: string, help: string, read: () => number): void => counterFrom(registry, name, help, read)
  counter('realtime_sockets_accepted_total', 'client sockets accepted (WebSocket connections)', () => stats.socketsAccepted)
  labelledCounterFrom(registry, 'realtime_socket_closes_total', 'client sockets closed, by the close code they ended with (1006: cut off)', 'code', () => stats.closes)
  labelledCounterFrom(registry, 'realtime_server_closes_total', 'closes the gateway started, by the code it sent', 'code', () => stats.serverCloses)
  counter('realtime_slow_socket_closes_total', 'sockets closed because they did not read their frames (4408)', () => stats.serverCloses.get(socketCloses.tooSlow.code) ?? 0)
  counter('realtime_frames_dropped_total', 'frames not written because the socket\'s send queue was full', () => stats.framesDropped)
  counter('realtime_events_sent_total', 'room event frames written to sockets (fan-out)', () => stats.eventsSent)
  counter('realtime_events_replayed_total', 'stored events replayed to resuming sockets', () => stats.eventsReplayed)
  counter('realtime_duplicates_dropped_total', 'events dropped because their seq was already sent', () => stats.duplicates)
  counter('realtime_gap_fills_total', 'reads of the event store to fill a gap in the live stream', () => stats.gapFills)
  counter('realtime_reconciliations_total', 'comparisons of the watched rooms with the store', () => stats.reconciliations)
  counter('realtime_catch_ups_total', 'stalled rooms whose missing events were read from the store (found by a reconciliation)', () => stats.catchUps)
  counter('realtime_channels_opened_total', 'room subscriptions taken on the bus', () => stats.channelsOpened)
  counter('realtime_resyncs_total', 'resync_required frames sent', () => stats.resyncs)
}
