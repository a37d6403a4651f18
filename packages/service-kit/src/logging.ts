import { randomUUID } from 'node:crypto'
import type { FastifyServerOptions } from 'fastify'

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
