// The chaos run, bounded for CI: every fault, held for a few seconds, under
// the same traffic as `npm run chaos`. It fails on any loss, duplicate, gap,
// crash nobody caused, locked-out client or token in a log.
import t from 'tap'
import { findNatsServer, findPostgresBinDir } from '@chat/process-kit'
import { gatewayMissing } from '../../../deploy/nginx/render.js'
import { formatReport } from '../src/report.js'
import { runChaos } from '../src/run.js'

const missing = [!findPostgresBinDir() && 'PostgreSQL server binaries', !findNatsServer() && 'nats-server', gatewayMissing()].filter(Boolean)
if (missing.length > 0) {
  if (process.env.REQUIRE_INFRA === '1') t.fail(`the chaos run needs ${missing.join(', ')} (REQUIRE_INFRA=1)`)
  else t.plan(0, `the chaos run needs ${missing.join(', ')}`)
} else {
  t.test('faults under traffic lose, duplicate and reorder nothing', async (t) => {
    const report = await runChaos({
      faults: process.env.CHAOS_FAULTS?.split(','),
      holdMs: Number(process.env.CHAOS_HOLD_MS ?? 3_000),
      progress: (line) => t.comment(line)
    })
    t.comment(`\n${formatReport(report)}`)
    t.ok(report.windows.length > 0, 'faults were injected')
    t.same(report.failures, [], 'no failure')
  })
}
