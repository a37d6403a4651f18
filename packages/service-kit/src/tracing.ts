// Loaded first by every process's main.ts, before anything that tracing
// instruments (http, pg, fastify): so it imports nothing but types, and the
// OpenTelemetry SDK only when tracing is configured. Unconfigured, a process
// loads none of it and pays nothing.
import type { Tracing } from './tracing-port.js'

export type { Tracing }

/** Whether the standard OTLP variables ask for traces (`OTEL_SDK_DISABLED=true` turns them off). */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
}

/**
 * Starts OpenTelemetry for `serviceName` (OTEL_SERVICE_NAME wins) when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or the traces endpoint) is set, exporting
 * over OTLP as the standard OTEL_* variables say; undefined otherwise.
 */
export async function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (!tracingConfigured(env)) return undefined
  const { startOpenTelemetry } = await import('./otel.js')
  return startOpenTelemetry(serviceName)
}
