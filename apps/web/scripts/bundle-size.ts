import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

export interface BundleSize {
  files: { name: string; bytes: number; gzipBytes: number }[]
  bytes: number
  gzipBytes: number
}

/** The JavaScript of a production build (`dist/assets/*.js`), raw and gzipped (level 9). */
export async function measureBundle(distDir: string): Promise<BundleSize> {
  const assets = join(distDir, 'assets')
  const names = (await readdir(assets)).filter((name) => name.endsWith('.js')).sort()
  const files = await Promise.all(
    names.map(async (name) => {
      const content = await readFile(join(assets, name))
      return { name, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length }
    })
  )
  return {
    files,
    bytes: files.reduce((sum, file) => sum + file.bytes, 0),
    gzipBytes: files.reduce((sum, file) => sum + file.gzipBytes, 0)
  }
}

export function formatKiB(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const size = await measureBundle(fileURLToPath(new URL('../dist', import.meta.url)))
  for (const file of size.files) console.log(`${file.name}  ${formatKiB(file.bytes)}  gzip ${formatKiB(file.gzipBytes)}`)
  console.log(`JavaScript total: ${formatKiB(size.bytes)}, gzipped ${formatKiB(size.gzipBytes)} (budget 150 KiB)`)
}
