import type { BusStats, EventBus } from '@chat/bus'
import type { RoomEventType } from '@chat/contracts'
import type { DbHandle } from '@chat/db'
import { closeOnSignals, registerDependencyMetrics, type ServiceApp } from '@chat/service-kit'
import type { EventTracing } from './event-tracing.js'
import { registerOutboxMetrics, registerRelayMetrics } from './outbox-metrics.js'
import { startRoomEventRelay, type RoomEventRelay } from './relay.js'

export interface EventWriterProcess {
  database: Pick<DbHandle, 'db' | 'destroy' | 'poolStats'>
  bus: EventBus & { readonly stats?: Readonly<BusStats> }
  /** The event types this process writes, and so relays (default: every type: the standalone process). */
  types?: readonly RoomEventType[]
  eventTracing?: EventTracing
  shutdownTimeoutMs: number
  /** Last, after the pool is closed (flushing the trace spans). */
  afterClose?: () => Promise<void>
}

/**
 * What the process of a service that writes room events runs beside its
 * app, the same in rooms, messages, reactions and the standalone process:
 * the outbox relay; the metrics read on scrape (the pool and the bus, each
 * when it has one, the outbox and the relay); and, on SIGTERM or SIGINT, the
 * order of shutdown: the app (its requests, then its publisher's last
 * marks), the relay, the bus, the pool.
 */
export function superviseEventWriter(app: ServiceApp, options: EventWriterProcess): RoomEventRelay {
  const { database, bus } = options
  const relay = startRoomEventRelay({
    db: database.db,
    bus,
    logger: app.log,
    ...(options.types ? { types: options.types } : {}),
    ...(options.eventTracing ? { tracing: options.eventTracing } : {})
  })
  registerDependencyMetrics(app.metrics, { poolStats: database.poolStats, busStats: bus.stats })
  registerOutboxMetrics(app.metrics, database.db)
  registerRelayMetrics(app.metrics, relay)
  closeOnSignals(app, {
    timeoutMs: options.shutdownTimeoutMs,
    afterClose: async () => {
      await relay.stop()
      await bus.drain()
      await database.destroy()
      await options.afterClose?.()
    }
  })
  return relay
}
