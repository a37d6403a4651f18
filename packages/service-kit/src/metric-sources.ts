import { Counter, Gauge, type Registry } from 'prom-client'
import type { BusStats } from '@chat/bus'
import type { PoolStats } from '@chat/db'

export { Registry } from 'prom-client'

/**
 * A counter that mirrors a plain number on scrape: the code that counts (the
 * send path, a socket) pays an increment of a field, and needs no metrics
 * library nor a registry of its own.
 */
export function counterFrom(registry: Registry, name: string, help: string, read: () => number): void {
  let reported = 0
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const value = read()
      this.inc(value - reported)
      reported = value
    }
  })
}

/** {@link counterFrom} with one label: `read` gives the count of each label value. */
export function labelledCounterFrom(registry: Registry, name: string, help: string, label: string, read: () => ReadonlyMap<string | number, number>): void {
  const reported = new Map<string, number>()
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      for (const [key, value] of read()) {
        const labelValue = String(key)
        this.inc({ [label]: labelValue }, value - (reported.get(labelValue) ?? 0))
        reported.set(labelValue, value)
      }
    }
  })
}

/** A gauge read on scrape. */
export function gaugeFrom(registry: Registry, name: string, help: string, read: () => number | Promise<number>): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await read())
    }
  })
}

/** The bus's publish failures and connection state. */
export function registerBusMetrics(registry: Registry, stats: Readonly<BusStats>): void {
  counterFrom(registry, 'bus_publish_failures_total', 'publishes to the bus that failed', () => stats.publishFailures)
  gaugeFrom(registry, 'nats_connected', '1 while the NATS connection is up, 0 while it is lost', () => (stats.connected ? 1 : 0))
  counterFrom(registry, 'nats_reconnects_total', 'times the NATS connection came back after it was lost', () => stats.reconnects)
}

/** The pg pool's connections (total, idle, waiting, max); nothing for PGlite. */
export function registerPoolMetrics(registry: Registry, poolStats: (() => PoolStats) | undefined): void {
  if (!poolStats) return
  gaugeFrom(registry, 'db_pool_connections', 'database connections open in the pool (idle and in use)', () => poolStats().total)
  gaugeFrom(registry, 'db_pool_idle_connections', 'pooled database connections not in use', () => poolStats().idle)
  gaugeFrom(registry, 'db_pool_waiting_queries', 'queries waiting for a pooled connection', () => poolStats().waiting)
  gaugeFrom(registry, 'db_pool_max_connections', 'the pool size (DATABASE_POOL_SIZE)', () => poolStats().max)
}

/**
 * What a service process adds to its registry beside the per-route RED
 * metrics: its pool and its bus (each when it has one).
 */
export function registerDependencyMetrics(registry: Registry, deps: { poolStats?: () => PoolStats; busStats?: Readonly<BusStats> }): void {
  registerPoolMetrics(registry, deps.poolStats)
  if (deps.busStats) registerBusMetrics(registry, deps.busStats)
}
