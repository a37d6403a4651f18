import { readdir, readFile } from 'node:fs/promises'
import t from 'tap'

// The client runs in browsers: no Node built-ins, and nothing from
// @chat/contracts at runtime (its values pull typebox into the bundle).
t.test('src imports only types from @chat/contracts and nothing from Node', async (t) => {
  const dir = new URL('../src/', import.meta.url)
  const files = (await readdir(dir)).filter((name) => name.endsWith('.ts'))
  t.ok(files.length > 0)
  for (const file of files) {
    const source = await readFile(new URL(file, dir), 'utf8')
    const imports = [...source.matchAll(/^(import|export)\s+(type\s+)?[^'"]*from\s+'([^']+)'/gm)]
    for (const [statement, , typeOnly, specifier] of imports) {
      if (specifier === '@chat/contracts') t.ok(typeOnly, `${file}: ${statement}`)
      else t.ok(specifier?.startsWith('./'), `${file}: ${statement}`)
    }
    t.notMatch(source, /\bBuffer\b|\bprocess\.|\brequire\(/, `${file} uses no Node globals`)
  }
})
