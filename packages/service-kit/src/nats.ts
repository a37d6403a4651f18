import type { BusLogger, NatsBusOptions } from '@chat/bus'

/** The NATS settings of {@link natsConfig}, as a service's config has them. */
export interface NatsSettings {
  NATS_URL: string
  NATS_STREAM_REPLICAS: number
  NATS_STREAM_MAX_AGE_HOURS: number
  NATS_STREAM_MAX_BYTES: number
}

/**
 * What main.ts gives connectNatsBus: the servers, the stream's limits (for
 * the services that write room events), and a wait for NATS at start, so
 * that a service started while NATS is down waits for it instead of exiting.
 *
 * @example
 * const bus = await connectNatsBus(natsBusOptions(config, 'rooms', logger))
 */
export function natsBusOptions(config: NatsSettings, name: string, logger: BusLogger, role: 'writer' | 'reader' = 'writer'): NatsBusOptions {
  return {
    url: config.NATS_URL,
    name,
    logger,
    waitForServer: true,
    manageStream: role === 'writer',
    limits: {
      replicas: config.NATS_STREAM_REPLICAS,
      maxAgeMs: config.NATS_STREAM_MAX_AGE_HOURS * 3_600_000,
      maxBytes: config.NATS_STREAM_MAX_BYTES
    }
  }
}
