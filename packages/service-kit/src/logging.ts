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
      req(request: { method: string; url: string; id: string; ip?: string }) {
        return { method: request.method, url: redactUrl(request.url), id: request.id, remoteAddress: request.ip }
      }
    }
  }
}

/**
 * The URL with the value of every `token` query parameter replaced: socket
 * upgrades may carry the access token there. Names are compared as the query
 * parser sees them (decoded: `%74oken` is `token` too), case-insensitively.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?')
  if (start < 0 || !/token|%/i.test(url.slice(start))) return url
  const parts = url.slice(start + 1).split('&').map((part) => {
    const equals = part.indexOf('=')
    const name = equals < 0 ? part : part.slice(0, equals)
    let decoded = name
    try {
      decoded = decodeURIComponent(name.replaceAll('+', ' '))
    } catch {
      // A malformed escape is kept as written; it is no `token` to the parser either.
    }
    return decoded.toLowerCase() === 'token' ? `${name}=[redacted]` : part
  })
  return `${url.slice(0, start)}?${parts.join('&')}`
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
