import type { ChaosReport } from './run.js'

const formatCounts = <K>(counts: Map<K, number>): string =>
  counts.size === 0 ? '-' : [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([kind, n]) => `${String(kind)}×${n}`).join(' ')

/** The run as a table: one row per fault, what clients saw and what was lost; then the totals and any failure. */
export function formatReport(report: ChaosReport): string {
  const header = ['fault', 'down s', 'recovered s', 'failed attempts seen by clients', 'reconnects', 'longest s', 'closes', 'lost', 'dup', 'gap', 'locked out', 'crashes', 'in the servers\' logs']
  const rows = report.verdicts.flatMap((verdict) =>
    verdict.rows.map((row) => [
      row.fault,
      row.downSeconds.toFixed(1),
      row.recoverSeconds === undefined ? 'NO' : row.recoverSeconds.toFixed(1),
      formatCounts(row.failures),
      String(row.reconnects),
      row.longestOutageSeconds.toFixed(1),
      formatCounts(row.closes),
      String(row.lost),
      String(row.duplicates),
      String(row.gaps),
      String(row.lockedOut),
      row.crashes.length === 0 ? '0' : row.crashes.join(' '),
      formatCounts(row.signals)
    ])
  )
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((cells) => cells[column]!.length)))
  const line = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`
  const lines = [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line), '']
  for (const verdict of report.verdicts) {
    const t = verdict.totals
    lines.push(`sends ${t.sends}, acknowledged ${t.acked} (${t.retried} after retries); ${t.events} room events; ${t.devices} devices received ${t.deliveries} events`)
  }
  lines.push(report.failures.length === 0 ? 'PASS: nothing lost, duplicated or out of order; no crash, no locked-out client, no token in a log' : `FAIL:\n${report.failures.slice(0, 50).map((failure) => `  - ${failure}`).join('\n')}`)
  return lines.join('\n')
}
