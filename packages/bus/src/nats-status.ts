import { PermissionViolationError, type Status } from '@nats-io/nats-core'
import type { BusLogger } from './port.js'

/** Logs a change of the NATS connection's status. */
export function logStatus(logger: BusLogger, status: Status): void {
  switch (status.type) {
    case 'disconnect':
    case 'reconnecting':
    case 'staleConnection':
    case 'slowConsumer':
      logger.warn({ status: status.type }, 'NATS connection status')
      break
    case 'reconnect':
      logger.info({ status: status.type, server: status.server }, 'NATS reconnected')
      break
    case 'error':
      if (status.error instanceof PermissionViolationError) {
        // The server refused a publish or subscription of this user: a
        // deployment error (permissions narrower than the code), never
        // fatal; the operation that caused it failed or logs its own error.
        const { operation, subject, queue } = status.error
        logger.error({ err: status.error, operation, subject, ...(queue ? { queue } : {}) }, 'NATS permissions violation')
      } else {
        logger.error({ err: status.error }, 'NATS async error')
      }
      break
    default:
      break
  }
}
