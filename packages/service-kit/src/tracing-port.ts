import type { Tracer } from '@opentelemetry/api'

/** A process's tracing, when configured: the tracer its own spans use, and the flush at exit. */
export interface Tracing {
  readonly tracer: Tracer
  /** Sends the spans still buffered and stops the SDK (after the app closed, before exit). */
  shutdown(): Promise<void>
}
