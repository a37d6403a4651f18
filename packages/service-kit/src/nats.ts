import { accessSync, constants } from 'node:fs'
import type { BusLogger, NatsBusOptions } from '@chat/bus'
import { ConfigError } from './config.js'

/** The NATS settings of {@link natsConfig}, as a service's config has them. */
export interface NatsSettings {
  NATS_URL: string
  NATS_STREAM_REPLICAS: number
  NATS_STREAM_MAX_AGE_HOURS: number
  NATS_STREAM_MAX_BYTES: number
  NATS_USER?: string
  NATS_PASSWORD?: string
  NATS_TLS_CA?: string
  NATS_TLS_CERT?: string
  NATS_TLS_KEY?: string
}

/**
 * What main.ts gives connectNatsBus: the servers, this service's credentials
 * and TLS files, the stream's limits (for the services that write room
 * events), and a wait for NATS at start, so that a service started while
 * NATS is down waits for it instead of exiting. Throws a ConfigError for
 * half a pair (a user without a password, a certificate without its key) or
 * a TLS file it cannot read: call it inside configOrExit.
 *
 * @example
 * const bus = await connectNatsBus(configOrExit(() => natsBusOptions(config, 'rooms', logger)))
 */
export function natsBusOptions(config: NatsSettings, name: string, logger: BusLogger, role: 'writer' | 'reader' = 'writer'): NatsBusOptions {
  requirePair(config, 'NATS_USER', 'NATS_PASSWORD')
  requirePair(config, 'NATS_TLS_CERT', 'NATS_TLS_KEY')
  for (const variable of ['NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY'] as const) requireReadable(config, variable)
  const tls = {
    ...(config.NATS_TLS_CA ? { caFile: config.NATS_TLS_CA } : {}),
    ...(config.NATS_TLS_CERT && config.NATS_TLS_KEY ? { certFile: config.NATS_TLS_CERT, keyFile: config.NATS_TLS_KEY } : {})
  }
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
    },
    ...(config.NATS_USER && config.NATS_PASSWORD ? { credentials: { user: config.NATS_USER, password: config.NATS_PASSWORD } } : {}),
    ...(Object.keys(tls).length > 0 ? { tls } : {})
  }
}

type NatsVariable = Exclude<keyof NatsSettings, 'NATS_URL' | 'NATS_STREAM_REPLICAS' | 'NATS_STREAM_MAX_AGE_HOURS' | 'NATS_STREAM_MAX_BYTES'>

function requirePair(config: NatsSettings, first: NatsVariable, second: NatsVariable): void {
  if (config[first] && !config[second]) throw new ConfigError(second, `is required with ${first}`)
  if (config[second] && !config[first]) throw new ConfigError(first, `is required with ${second}`)
}

// A missing certificate would otherwise surface only as a connect failure retried forever.
function requireReadable(config: NatsSettings, variable: NatsVariable): void {
  const file = config[variable]
  if (!file) return
  try {
    accessSync(file, constants.R_OK)
  } catch (error) {
    throw new ConfigError(variable, `is not a readable file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}): ${file}`)
  }
}
