// An OTLP/HTTP trace receiver for the tracing tests: the services export to it
// as they would to a collector (OTEL_EXPORTER_OTLP_ENDPOINT, with
// OTEL_EXPORTER_OTLP_PROTOCOL=http/json), and the test reads the spans.
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A span as an OTLP receiver got it. */
export interface ReceivedSpan {
  service: string
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  startNs: bigint
  attributes: Record<string, unknown>
  links: Array<{ traceId: string; spanId: string }>
}

/** OTLP/JSON ids are hex; the protobuf-style base64 of other encoders is turned into hex. */
function hexId(id: unknown): string {
  if (typeof id !== 'string' || id === '') return ''
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex')
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
function attributesOf(list: Array<{ key: string; value: AnyValue }> | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue]))
}

/** An OTLP/HTTP trace receiver (`POST /v1/traces`, JSON) that keeps every span it is sent. */
export async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = []
  const readBody = async (request: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }
  const server = createServer((request, response) => {
    void readBody(request).then((body) => {
      if (request.method === 'POST' && request.url === '/v1/traces' && /json/.test(request.headers['content-type'] ?? '')) {
        const payload = JSON.parse(body) as { resourceSpans?: Array<{ resource?: { attributes?: Array<{ key: string; value: AnyValue }> }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }> }
        for (const resourceSpans of payload.resourceSpans ?? []) {
          const serviceName = attributesOf(resourceSpans.resource?.attributes)['service.name']
          const service = typeof serviceName === 'string' ? serviceName : '?'
          for (const scope of resourceSpans.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) {
              spans.push({
                service,
                traceId: hexId(span.traceId),
                spanId: hexId(span.spanId),
                parentSpanId: hexId(span.parentSpanId),
                name: String(span.name),
                kind: Number(span.kind ?? 0),
                startNs: BigInt(span.startTimeUnixNano as string | number | undefined ?? 0),
                attributes: attributesOf(span.attributes as Array<{ key: string; value: AnyValue }>),
                links: ((span.links ?? []) as Array<{ traceId: string; spanId: string }>).map((link) => ({ traceId: hexId(link.traceId), spanId: hexId(link.spanId) }))
              })
            }
          }
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } else {
        response.writeHead(415).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve()))
  }
}

/** The trace as an indented tree, children in start order: `service: name`. */
export function renderSpanTree(spans: ReceivedSpan[]): string {
  const byParent = new Map<string, ReceivedSpan[]>()
  const ids = new Set(spans.map((span) => span.spanId))
  for (const span of spans) {
    const parent = ids.has(span.parentSpanId) ? span.parentSpanId : ''
    byParent.set(parent, [...(byParent.get(parent) ?? []), span])
  }
  const lines: string[] = []
  const walk = (parent: string, depth: number): void => {
    for (const span of (byParent.get(parent) ?? []).sort((a, b) => (a.startNs < b.startNs ? -1 : 1))) {
      lines.push(`${'  '.repeat(depth)}${span.service}: ${span.name}`)
      walk(span.spanId, depth + 1)
    }
  }
  walk('', 0)
  return lines.join('\n')
}
