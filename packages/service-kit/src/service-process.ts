import type { BusStats, EventBus } from '@chat/bus'
import type { DbHandle } from '@chat/db'
import { registerDependencyMetrics } from './metric-sources.js'
import { closeOnSignals } from './shutdown.js'
import type { ServiceApp } from './app.js'

export interface ServiceProcess {
  database: Pick<DbHandle, 'destroy' | 'poolStats'>
  bus: Pick<EventBus, 'drain'> & { readonly stats?: Readonly<BusStats> }
  shutdownTimeoutMs: number
  /** After the app has closed and before the bus drains: what still publishes or reads (the relay, a presence tracker). */
  beforeBus?: () => Promise<void>
  /** Last, after the pool is closed (flushing the trace spans). */
  afterClose?: () => Promise<void>
}

/**
 * What every service's process runs beside its app: the pool's and the bus's
 * metrics, read on scrape, and on SIGTERM or SIGINT the one order of
 * shutdown: the app (its requests and hooks), `beforeBus`, the bus, the
 * pool, `afterClose`.
 */
export function superviseService(app: ServiceApp, options: ServiceProcess): void {
  const { database, bus } = options
  registerDependencyMetrics(app.metrics, { poolStats: database.poolStats, busStats: bus.stats })
  closeOnSignals(app, {
    timeoutMs: options.shutdownTimeoutMs,
    afterClose: async () => {
      await options.beforeBus?.()
      await bus.drain()
      await database.destroy()
      await options.afterClose?.()
    }
  })
}
