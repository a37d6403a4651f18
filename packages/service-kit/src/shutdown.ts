import type { FastifyInstance } from 'fastify'

/**
 * Closes the app on SIGTERM or SIGINT: stop accepting, let in-flight requests
 * finish and run every onClose hook (sockets, bus drain, pool), then exit.
 * A second signal or the timeout forces the exit. Then `afterClose`.
 */
export function closeOnSignals(
  app: FastifyInstance,
  options: {
    timeoutMs: number
    signals?: NodeJS.Signals[]
    /**
     * Releases what the plugins use (relay, bus, pool), after app.close() has
     * run every onClose hook: Fastify runs those last-added-first, so a hook
     * added in main.ts would otherwise run before the plugins' own (a final
     * publisher flush on a destroyed pool).
     */
    afterClose?: () => Promise<void>
  }
): void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT']
  let closing = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      app.log.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    closing = true
    app.log.info({ signal }, 'shutting down')
    const timer = setTimeout(() => {
      app.log.error({ timeoutMs: options.timeoutMs }, 'shutdown timed out: exiting')
      process.exit(1)
    }, options.timeoutMs)
    timer.unref()
    app
      .close()
      .then(() => options.afterClose?.())
      .then(
        () => {
          app.log.info('stopped')
          process.exit(0)
        },
        (error: unknown) => {
          app.log.error({ err: error }, 'error while shutting down')
          process.exit(1)
        }
      )
  }
  for (const signal of signals) process.on(signal, onSignal)
}
