import { context, trace, type Context, type SpanContext, type Tracer } from '@opentelemetry/api'
import { roomEventId } from '@chat/contracts'

/** How many stranded events' trace contexts are remembered for the relay's links. */
const maxStranded = 10_000

/**
 * Tracing of the room events of a process, when it traces: the tracer, and
 * the trace of each event whose publish failed (by event id), so that the
 * relay's re-publish, in a trace of its own, links back to the send that
 * wrote it. Remembered in memory: a re-publish by another replica, or after
 * a restart, has no link.
 */
export interface EventTracing {
  readonly tracer: Tracer
  readonly stranded: Map<string, SpanContext>
}

export function createEventTracing(tracer: Tracer): EventTracing {
  return { tracer, stranded: new Map() }
}

/** Remembers the trace an unpublished event was written in (the oldest are forgotten past the bound). */
export function rememberStranded(tracing: EventTracing, roomId: string, seq: number, written: Context | undefined): void {
  const spanContext = trace.getSpanContext(written ?? context.active())
  if (!spanContext) return
  tracing.stranded.set(roomEventId(roomId, seq), spanContext)
  if (tracing.stranded.size > maxStranded) tracing.stranded.delete(tracing.stranded.keys().next().value!)
}

/** The trace the event was written in, if this process saw its publish fail; forgotten once taken. */
export function takeStranded(tracing: EventTracing, roomId: string, seq: number): SpanContext | undefined {
  const id = roomEventId(roomId, seq)
  const spanContext = tracing.stranded.get(id)
  tracing.stranded.delete(id)
  return spanContext
}
