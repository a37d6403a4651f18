// Messaging spans of the bus, made only when the bus is given a tracer (the
// process traces): the W3C trace context travels in the message headers
// (`traceparent`, `tracestate`) that already carry the event envelope.
import { SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span, type Tracer } from '@opentelemetry/api'
import type { BusMessage, EventBus, MessageHandler, RequestHandler } from './port.js'

const uuidToken = /(^|\.)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=\.|$)/gi

/** A subject fit for a span name: ids replaced by `*` (`chat.room.*.message.created`), so names stay few. */
export function subjectTemplate(subject: string): string {
  return subject.replace(uuidToken, '$1*')
}

/** Runs a publish or request (`send`, given the headers to send) in a producer span whose context the headers carry. */
export async function inSendSpan<T>(tracer: Tracer, operation: 'publish' | 'request', subject: string, headers: Record<string, string> | undefined, messageId: string | undefined, send: (headers: Record<string, string>) => Promise<T>): Promise<T> {
  const started = startSendSpan(tracer, operation, subject, headers, messageId)
  try {
    const result = await send(started.headers)
    if ((result as { duplicate?: unknown }).duplicate === true) started.span.setAttribute('messaging.nats.duplicate', true)
    return result
  } catch (error) {
    failed(started.span, error)
    throw error
  } finally {
    started.span.end()
  }
}

function startSendSpan(tracer: Tracer, operation: 'publish' | 'request', subject: string, headers: Record<string, string> | undefined, messageId?: string): { span: Span; headers: Record<string, string> } {
  const span = tracer.startSpan(`${operation} ${subjectTemplate(subject)}`, {
    kind: operation === 'publish' ? SpanKind.PRODUCER : SpanKind.CLIENT,
    attributes: {
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.destination.name': subject,
      ...(messageId ? { 'messaging.message.id': messageId } : {})
    }
  })
  const carrier = { ...headers }
  propagation.inject(trace.setSpan(context.active(), span), carrier)
  return { span, headers: carrier }
}

/** The trace context a message carries in its headers (the active one when it carries none). */
export function extractContext(header: (name: string) => string | undefined): Context {
  return propagation.extract(context.active(), undefined, {
    get: (_carrier, key) => header(key),
    keys: () => ['traceparent', 'tracestate']
  })
}

/** Runs `work` in a consumer span whose parent is the context the message carried. */
export async function inReceiveSpan<T>(tracer: Tracer, operation: 'receive' | 'process', subject: string, header: (name: string) => string | undefined, work: () => Promise<T>): Promise<T> {
  const parent = extractContext(header)
  const span = tracer.startSpan(
    `${operation} ${subjectTemplate(subject)}`,
    { kind: operation === 'receive' ? SpanKind.CONSUMER : SpanKind.SERVER, attributes: { 'messaging.system': 'nats', 'messaging.operation.type': operation, 'messaging.destination.name': subject } },
    parent
  )
  try {
    return await context.with(trace.setSpan(parent, span), work)
  } catch (error) {
    failed(span, error)
    throw error
  } finally {
    span.end()
  }
}

export function failed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error))
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
}

/**
 * A bus whose publishes and requests carry the trace context and whose
 * handlers run in a span of the trace their message carries: how the
 * in-process bus (the standalone process) traces; the NATS adapter does the
 * same inside.
 */
export function withTracing(bus: EventBus, tracer: Tracer): EventBus {
  const traced = <T>(operation: 'receive' | 'process', message: BusMessage, handle: () => T | Promise<T>): Promise<T> =>
    message.header('traceparent') === undefined
      ? Promise.resolve(handle())
      : inReceiveSpan(tracer, operation, message.subject, (name) => message.header(name), async () => handle())
  return {
    publish: (subject, data, options = {}) => inSendSpan(tracer, 'publish', subject, options.headers, options.msgId, (headers) => bus.publish(subject, data, { ...options, headers })),
    request: (subject, data, options = {}) => inSendSpan(tracer, 'request', subject, options.headers, undefined, (headers) => bus.request(subject, data, { ...options, headers })),
    subscribe: (pattern, handler: MessageHandler, options) => bus.subscribe(pattern, (message) => traced('receive', message, () => handler(message)), options),
    serve: (subject, handler: RequestHandler, options) => bus.serve(subject, (message) => traced('process', message, () => handler(message)), options),
    ping: () => bus.ping(),
    flush: () => bus.flush(),
    drain: () => bus.drain(),
    close: () => bus.close()
  }
}
