// The services mode for end-to-end tests: every service as its own process
// (through deploy/start-services.ts), on a fresh PostgreSQL database of its
// own and free ports, behind the nginx gateway when nginx is installed.
// The database is dropped when the test ends.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from 'pg'
import type { Test } from 'tap'
import { findNginx } from '../../../deploy/nginx/render.js'
import { DEFAULT_NATS_URL, SERVICE_NAMES, startServices, type RunningServices, type ServiceName } from '../../../deploy/start-services.js'

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const NATS_URL = process.env.NATS_URL ?? DEFAULT_NATS_URL

export interface ServicesMode extends RunningServices {
  /** The gateway when nginx runs, else the URL of the service that serves `path` (for tests without nginx). */
  url(path: string): string
  /** The launcher's log lines so far (each prefixed with its process name). */
  logs: string[]
}

export interface ServicesModeOptions {
  /** Default: all (identity, rooms, messages, reactions, realtime). */
  services?: readonly ServiceName[]
  /** Extra variables for every service. */
  env?: Record<string, string>
}

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((done) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || defaultPort) })
    socket.setTimeout(2_000)
    socket.once('connect', () => { socket.destroy(); done(true) })
    socket.once('timeout', () => { socket.destroy(); done(false) })
    socket.once('error', () => done(false))
  })
}

/**
 * Starts the services mode for `t`, or returns undefined after skipping `t`
 * when PostgreSQL, NATS or nginx is missing (a failure instead when
 * REQUIRE_INFRA=1). Stopped, and its database dropped, on t's teardown.
 */
export async function startServicesMode(t: Test, options: ServicesModeOptions = {}): Promise<ServicesMode | undefined> {
  const required = process.env.REQUIRE_INFRA === '1'
  const missing: string[] = []
  if (!(await reachable(SERVER_URL, 5432))) missing.push(`PostgreSQL at ${new URL(SERVER_URL).host}`)
  if (!(await reachable(NATS_URL, 4222))) missing.push(`NATS at ${NATS_URL}`)
  if (!findNginx()) missing.push('nginx')
  if (missing.length > 0) {
    if (required) throw new Error(`services mode needs ${missing.join(', ')} (REQUIRE_INFRA=1)`)
    t.plan(0, `services mode needs ${missing.join(', ')}`)
    return undefined
  }

  const name = `chat_e2e_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`
  const databaseUrl = new URL(SERVER_URL)
  databaseUrl.pathname = `/${name}`
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-e2e-'))
  const logs: string[] = []
  let running: RunningServices | undefined
  // One teardown, in order: the processes, then their database.
  t.teardown(async () => {
    await running?.stop()
    rmSync(dataDir, { recursive: true, force: true })
    const admin = new Client({ connectionString: SERVER_URL })
    await admin.connect()
    try {
      await admin.query(`drop database if exists "${name}" with (force)`)
    } finally {
      await admin.end()
    }
  })

  // A base port per test process, so that parallel test files do not race for the same ports.
  const basePort = 20_000 + ((process.pid * 37) % 400) * 100
  try {
    running = await startServices({
      services: options.services ?? SERVICE_NAMES,
      databaseUrl: databaseUrl.toString(),
      natsUrl: NATS_URL,
      basePort,
      gateway: 'required',
      dataDir,
      staticRoot: join(dataDir, 'web'),
      env: { LOG_LEVEL: 'warn', ...options.env },
      log: (line) => { logs.push(line) }
    })
  } catch (error) {
    t.comment(logs.slice(-40).join('\n'))
    throw error
  }
  const started = running
  const byPrefix: [RegExp, string][] = [
    [/^\/(auth|users|\.well-known)(\/|$)/, 'identity'],
    [/^\/messages\/[^/]+\/reaction\/?$/, 'reactions'],
    [/^\/emoji(\/|$)/, 'reactions'],
    [/^\/chatrooms(\/|$)/, 'rooms'],
    [/^\/messages(\/|$)/, 'messages'],
    [/^\/ws(\/|$)/, 'realtime-1']
  ]
  return {
    ...started,
    logs,
    url(path: string): string {
      if (started.gatewayUrl) return `${started.gatewayUrl}${path}`
      const service = byPrefix.find(([pattern]) => pattern.test(path))?.[1]
      const base = started.services.find((entry) => entry.name === service || entry.name === service?.replace(/-1$/, ''))
      if (!base) throw new Error(`no service for ${path}`)
      return `${base.url}${path}`
    }
  }
}
