import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'

const safeRequestId = /^[\w.:-]{1,128}$/

/** Logger settings: pino JSON, and nothing secret ever written. */
export function loggerOptions(level: string): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["sec-websocket-protocol"]',
        'req.query.token',
        '*.password',
        '*.refresh_token',
        '*.access_token'
      ],
      censor: '[redacted]'
    },
    serializers: {
      // The URL may carry ?token= on socket upgrades: log the path only when it does.
      req(request: { method: string; url: string; id: string; ip?: string }) {
        const url = request.url.includes('token=') ? request.url.replace(/([?&]token=)[^&]*/g, '$1[redacted]') : request.url
        return { method: request.method, url, id: request.id, remoteAddress: request.ip }
      }
    }
  }
}

/** Request ids: the caller's `x-request-id` when it is sane, else a fresh UUID. */
export function genRequestId(request: { headers: Record<string, string | string[] | undefined> }): string {
  const incoming = request.headers['x-request-id']
  return typeof incoming === 'string' && safeRequestId.test(incoming) ? incoming : randomUUID()
}

/** Logs what happens before the app exists (bus, relay, publisher) and, once attached, through the app's logger. */
export interface StartupLogger {
  info(object: Record<string, unknown>, message: string): void
  warn(object: Record<string, unknown>, message: string): void
  error(object: Record<string, unknown>, message: string): void
  /** From now on, everything goes to this app's logger. */
  attach(app: { log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'> }): void
}

/**
 * For main.ts: the bus and the event machinery start before the app and log
 * through it once it exists; warnings and errors before that go to stderr.
 *
 * @example
 * const logger = startupLogger()
 * const bus = await connectNatsBus({ url, name: 'rooms', logger })
 * const app = await buildApp(...)
 * logger.attach(app)
 */
export function startupLogger(): StartupLogger {
  let target: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'> | undefined
  return {
    info: (object, message) => target?.info(object, message),
    warn: (object, message) => (target ? target.warn(object, message) : console.error(message, object)),
    error: (object, message) => (target ? target.error(object, message) : console.error(message, object)),
    attach: (app) => {
      target = app.log
    }
  }
}
