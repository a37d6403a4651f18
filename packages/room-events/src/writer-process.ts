import type { BusStats, EventBus } from '@chat/bus'
import type { RoomEventType } from '@chat/contracts'
import type { DbHandle } from '@chat/db'
import { superviseService, type ServiceApp } from '@chat/service-kit'
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
 * every service's (`superviseService`: the pool's and the bus's metrics, the
 * order of shutdown), plus the outbox relay and its metrics. The relay stops
 * after the app (its requests, then its publisher's last marks) and before
 * the bus.
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
  registerOutboxMetrics(app.metrics, database.db)
  registerRelayMetrics(app.metrics, relay)
  superviseService(app, {
    database,
    bus,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    beforeBus: () => relay.stop(),
    ...(options.afterClose ? { afterClose: options.afterClose } : {})
  })
  return relay
}
