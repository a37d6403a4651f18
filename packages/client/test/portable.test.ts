import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// The client runs in browsers: no Node built-ins, and nothing from
// @chat/contracts at runtime but its constants subpath (the index's values
// pull typebox into the bundle; the subpath imports nothing).
t.test('src imports only types from @chat/contracts, values only from its constants subpath, and nothing from Node', async (t) => {
  const dir = new URL('../src/', import.meta.url)
  const files = (await readdir(dir)).filter((name) => name.endsWith('.ts'))
  t.ok(files.length > 0)
  for (const file of files) {
    const source = await readFile(new URL(file, dir), 'utf8')
    const imports = [...source.matchAll(/^(import|export)\s+(type\s+)?[^'"]*from\s+'([^']+)'/gm)]
    for (const [statement, , typeOnly, specifier] of imports) {
      if (specifier === '@chat/contracts') t.ok(typeOnly, `${file}: ${statement}`)
      else if (specifier !== '@chat/contracts/constants') t.ok(specifier?.startsWith('./'), `${file}: ${statement}`)
    }
    t.notMatch(source, /\bBuffer\b|\bprocess\.|\brequire\(/, `${file} uses no Node globals`)
  }
})

t.test('the constants subpath the client bundles imports nothing', async (t) => {
  const built = await readFile(fileURLToPath(import.meta.resolve('@chat/contracts/constants')), 'utf8')
  t.notMatch(built, /^\s*(import|export)\b[^\n]*\bfrom\s/m, 'no import or re-export: typebox cannot come with it')
  t.notMatch(built, /typebox/)
})
