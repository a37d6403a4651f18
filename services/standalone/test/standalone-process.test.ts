import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createDb } from '@chat/db'

const mainFile = fileURLToPath(new URL('../dist/main.js', import.meta.url))

interface Running {
  child: ChildProcess
  baseUrl: string
  exited: Promise<number | null>
  output: () => string
}

/** Starts the built standalone server on a free port and waits for its ready line. */
async function start(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, [mainFile], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const match = /Chat API ready at (http:\/\/[\d.:]+)/.exec(output)
    if (match?.[1]) return { child, baseUrl: match[1], exited, output: () => output }
    if (child.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`standalone did not start:\n${output}`)
}

async function post(baseUrl: string, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

t.test('starts, serves, stops cleanly on SIGTERM and keeps its data across a restart', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'chat-standalone-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))

  const first = await start(dataDir)
  t.teardown(() => { first.child.kill('SIGKILL') })
  const registered = await post(first.baseUrl, '/auth/register', { display_name: 'Persistent', password: 'long enough' })
  t.equal(registered.status, 201)
  const accessToken = String(registered.json.access_token)
  for (const path of ['/docs', '/docs/json', '/.well-known/jwks.json', '/healthz', '/readyz']) {
    const response = await fetch(`${first.baseUrl}${path}`)
    t.equal(response.status, 200, path)
  }
  const keyFile = await stat(join(dataDir, 'signing-key.pem'))
  t.equal(keyFile.mode & 0o777, 0o600, 'the signing key is readable by its owner only')
  // A change right before SIGTERM: its event must still be marked published
  // by the final flush, which needs the database still open.
  await post(first.baseUrl, '/auth/register', { display_name: 'Other', password: 'long enough' })
  const room = await fetch(`${first.baseUrl}/chatrooms/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ name: 'Last words', participants_display_names: ['Other'] })
  })
  t.equal(room.status, 201)
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0, 'exits 0 on SIGTERM')
  t.notMatch(first.output(), /"level":(50|60)/, 'no error logged')
  t.notMatch(first.output(), /long enough|BEGIN PRIVATE KEY/, 'no secret in the logs')
  const stopped = await createDb(join(dataDir, 'pglite'))
  const events = await stopped.db.selectFrom('room_events').select('seq').execute()
  const outbox = await stopped.db.selectFrom('room_events_outbox').select('seq').execute()
  await stopped.destroy()
  t.equal(events.length, 1)
  t.same(outbox, [], 'the event published just before SIGTERM was marked (out of the outbox) before the database closed')

  const second = await start(dataDir)
  t.teardown(() => { second.child.kill('SIGKILL') })
  const login = await post(second.baseUrl, '/auth/login', { display_name: 'persistent', password: 'long enough' })
  t.equal(login.status, 200, 'the account survived the restart')
  const me = await fetch(`${second.baseUrl}/users/me`, { headers: { authorization: `Bearer ${accessToken}` } })
  t.equal(me.status, 200, 'a token from before the restart still verifies: the key was kept')
  second.child.kill('SIGINT')
  t.equal(await second.exited, 0, 'exits 0 on Ctrl-C')
})

t.test('a bad variable stops the process with one line naming it', async (t) => {
  const child = spawn(process.execPath, [mainFile], { env: { ...process.env, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.equal(code, 1)
  const lines = stderr.trim().split('\n')
  t.equal(lines.length, 1, 'one line')
  t.match(lines[0], /PORT/)
})
