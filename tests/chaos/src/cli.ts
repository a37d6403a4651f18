// npm run chaos [-- --faults kill,postgres --hold-ms 5000 --rate 50 --logs /tmp/chaos.log]
// Needs `npm run build`, PostgreSQL's server binaries, nats-server and nginx.
import { parseArgs } from 'node:util'
import { formatReport } from './report.js'
import { runChaos } from './run.js'

const { values } = parseArgs({
  options: {
    faults: { type: 'string' },
    'hold-ms': { type: 'string', default: '5000' },
    rate: { type: 'string', default: '50' },
    logs: { type: 'string' }
  }
})
const startedAt = Date.now()
const report = await runChaos({
  faults: values.faults?.split(',').map((name) => name.trim()).filter(Boolean),
  holdMs: Number(values['hold-ms']),
  traffic: { messagesPerSecond: Number(values.rate) },
  progress: (line) => process.stdout.write(`${line}\n`),
  logFile: values.logs
})
process.stdout.write(`\n${formatReport(report)}\n(${((Date.now() - startedAt) / 1000).toFixed(0)} s)\n`)
process.exit(report.failures.length === 0 ? 0 : 1)
