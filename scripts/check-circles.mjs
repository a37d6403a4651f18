// The lint step's import-circle check: madge over the src/ (and bench/) of
// every workspace, and deploy/, each with its own tsconfig.json, so that the
// `.js` specifiers of TypeScript's NodeNext imports resolve to the .ts files
// (type-only imports count too). Prints each package's circles and exits 1
// when there is one.
import console from 'node:console'
import { existsSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import process from 'node:process'
import { URL, fileURLToPath } from 'node:url'
import madge from 'madge'

const root = fileURLToPath(new URL('..', import.meta.url))
const sources = ['packages', 'services', 'apps', 'tests']
  .flatMap((group) => readdirSync(join(root, group)).map((name) => join(root, group, name)))
  .filter((dir) => existsSync(join(dir, 'tsconfig.json')))
  .flatMap((dir) => ['src', 'bench'].filter((part) => existsSync(join(dir, part))).map((part) => ({ dir, part })))
  .concat({ dir: join(root, 'deploy'), part: '.' })

let circles = 0
for (const { dir, part } of sources) {
  const result = await madge(join(dir, part), { fileExtensions: ['ts', 'tsx'], tsConfig: join(dir, 'tsconfig.json') })
  const found = result.circular()
  const name = join(relative(root, dir), part)
  const files = Object.keys(result.obj()).length
  if (found.length === 0) {
    console.log(`${name}: ${files} files, no import circle`)
    continue
  }
  circles += found.length
  for (const circle of found) console.error(`${name}: import circle ${[...circle, circle[0]].join(' > ')}`)
}
if (circles > 0) {
  console.error(`${circles} import circle(s): break each (move the shared part to a module both import)`)
  process.exit(1)
}
