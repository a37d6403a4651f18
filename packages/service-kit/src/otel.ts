// The OpenTelemetry SDK of a process, imported by tracing.ts only when
// tracing is configured. Spans: every HTTP request (http and @fastify/otel),
// every query (pg), and the services' own (the bus's publish/receive, the
// gateway's socket writes, the relay).
import { register } from 'node:module'
import { trace } from '@opentelemetry/api'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { NodeSDK } from '@opentelemetry/sdk-node'
import type { Tracing } from './tracing-port.js'

/** Probes and scrapes are not worth a trace each. */
const untracedPaths = ['/healthz', '/readyz', '/metrics']

export function startOpenTelemetry(serviceName: string): Tracing {
  // pg and fastify are CommonJS imported from ES modules: import-in-the-middle's
  // hook lets the instrumentations patch them. Registered before the app's
  // modules load (main.ts imports them after this).
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url)
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => untracedPaths.includes((request.url ?? '').split('?', 1)[0]!.replace(/\/$/, '')),
        // The OTLP exporter's own requests would trace themselves.
        ignoreOutgoingRequestHook: () => true
      }),
      new PgInstrumentation({ requireParentSpan: true }),
      new FastifyOtelInstrumentation({ registerOnInitialization: true, ignorePaths: (options: { url: string }) => untracedPaths.includes(options.url.replace(/\/$/, '')) })
    ]
  })
  sdk.start()
  return {
    tracer: trace.getTracer('@chat/services'),
    shutdown: () => sdk.shutdown()
  }
}
