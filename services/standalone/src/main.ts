// Tracing first, when configured (OTEL_EXPORTER_OTLP_ENDPOINT): its hooks must
// be in place before http, pg and fastify load, so everything else is
// imported after it. Unconfigured, nothing of OpenTelemetry is loaded.
import { startTracing } from '@chat/service-kit/tracing'

const tracing = await startTracing('standalone')
const { startServer } = await import('./server.js')
await startServer(tracing)
