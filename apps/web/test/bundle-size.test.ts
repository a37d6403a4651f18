import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { formatKiB, measureBundle } from '../scripts/bundle-size.js'

const distDir = fileURLToPath(new URL('../dist', import.meta.url))
const budgetBytes = 150 * 1024

t.test('the production JavaScript stays under 150 KiB gzipped', async (t) => {
  t.ok(existsSync(`${distDir}/index.html`), 'dist/index.html exists (run `npm run build` in apps/web first)')
  if (!existsSync(`${distDir}/assets`)) return
  const size = await measureBundle(distDir)
  t.ok(size.files.length > 0, 'the build has JavaScript')
  t.comment(`JavaScript: ${size.files.length} file(s), ${formatKiB(size.bytes)} raw, ${formatKiB(size.gzipBytes)} gzipped`)
  t.ok(size.gzipBytes < budgetBytes, `gzipped JavaScript ${formatKiB(size.gzipBytes)} < ${formatKiB(budgetBytes)}`)
})
