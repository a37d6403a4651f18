import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { migrations } from '../src/migrations/index.js'
import { createTestDatabase } from '../src/testing.js'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const built = join(packageDir, 'dist', 'migrate-cli.js')
// The built file is what `npm run migrate` runs; turbo builds before testing.
// Without a build (a bare `npx tap`), run the source through tsx instead.
const command = existsSync(built) ? [built] : ['--import', 'tsx', join(packageDir, 'src', 'migrate-cli.ts')]

interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

function runCli(args: string[], databaseUrl: string | undefined): Promise<CliResult> {
  const env = { ...process.env }
  delete env.DATABASE_URL
  if (databaseUrl !== undefined) env.DATABASE_URL = databaseUrl
  return new Promise((resolve) => {
    execFile(process.execPath, [...command, ...args], { cwd: packageDir, env }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : null), stdout, stderr })
    })
  })
}

t.test('a missing DATABASE_URL exits 1 with one line naming it', async (t) => {
  for (const value of [undefined, '', '   ']) {
    const result = await runCli(['status'], value)
    t.equal(result.code, 1, `exit code for ${JSON.stringify(value)}`)
    t.equal(result.stdout, '')
    t.match(result.stderr, /^[^\n]*DATABASE_URL[^\n]*\n$/, 'exactly one line, naming DATABASE_URL')
  }
})

t.test('an invalid DATABASE_URL exits 1 with one line naming it', async (t) => {
  const result = await runCli(['up'], 'mysql://root@localhost/chat')
  t.equal(result.code, 1)
  t.match(result.stderr, /^[^\n]*DATABASE_URL[^\n]*\n$/)
})

t.test('an unknown command prints the usage and exits 1', async (t) => {
  const result = await runCli(['sideways'], 'memory://')
  t.equal(result.code, 1)
  t.match(result.stderr, /^usage: migrate-cli \[up\|status\]/)
})

t.test('up then status on a PGlite directory', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-migrate-cli-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))

  // Each run pays PGlite's WASM start-up, so two runs cover both commands.
  const first = await runCli([], dataDir)
  t.same(first, { code: 0, stdout: Object.keys(migrations).map((name) => `${name} applied now\n`).join(''), stderr: '' }, 'up is the default command')
  const status = await runCli(['status'], dataDir)
  t.equal(status.code, 0)
  t.match(status.stdout, new RegExp(`^${Object.keys(migrations).map((name) => `${name} applied \\d{4}-\\d\\d-\\d\\dT[^\\n]+Z\\n`).join('')}$`), 'already applied, with its time')
})

t.test('status on a PostgreSQL test database', async (t) => {
  const testDb = await createTestDatabase(t)
  if (testDb.kind !== 'postgres') {
    await t.skip('PostgreSQL not reachable', () => {})
    return
  }
  const result = await runCli(['status'], testDb.url)
  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, new RegExp(`^${Object.keys(migrations).map((name) => `${name} applied \\S+\\n`).join('')}$`))
})

t.test('an unreachable server exits 1 with one line', async (t) => {
  const result = await runCli(['status'], 'postgres://postgres@127.0.0.1:1/postgres')
  t.equal(result.code, 1)
  t.match(result.stderr, /^migrate status failed: [^\n]*ECONNREFUSED[^\n]*\n$/)
})
