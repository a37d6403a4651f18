// The services mode for end-to-end tests: every service as its own process
// (through deploy/start-services.ts), on a fresh PostgreSQL database of its
// own and free ports, behind the nginx gateway when nginx is installed.
// The database is dropped when the test ends.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { databaseUrl as urlOfDatabase, dropDatabase } from '@chat/db'
import { findNatsServer, reachable, startNatsServer, type NatsServerProcess } from '@chat/process-kit'
import type { Test } from 'tap'
import { NATS_USER_NAMES, PERMISSIONS_CONF, generateNatsPassword, natsServerEnv, type NatsUser } from '../../../deploy/nats/permissions.js'
import { gatewayMissing } from '../../../deploy/nginx/render.js'
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
  /**
   * 'shared' (default): the NATS server of NATS_URL (else 127.0.0.1:4222).
   * 'private': a nats-server of this test's own (JetStream, a port of its
   * choosing, the shipped users and permissions of
   * deploy/nats/permissions.conf), stopped after the services. The services' subjects carry no
   * namespace, so on a shared server the `svc.messages.send` requests of this
   * run's realtime gateways can be answered by any other messages service on
   * it (another test file, another checkout), with another database: a
   * socket message then fails with room_not_found. Falls back to 'shared'
   * when nats-server is not installed (NATS_SERVER_BIN, /usr/sbin, the PATH).
   */
  nats?: 'shared' | 'private'
}

function reachableUrl(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return reachable(hostname || '127.0.0.1', Number(port || defaultPort))
}

/**
 * Starts the services mode for `t`, or returns undefined after skipping `t`
 * when PostgreSQL, NATS or nginx is missing (a failure instead when
 * REQUIRE_INFRA=1). Stopped, and its database dropped, on t's teardown.
 */
export async function startServicesMode(t: Test, options: ServicesModeOptions = {}): Promise<ServicesMode | undefined> {
  const required = process.env.REQUIRE_INFRA === '1'
  const natsServer = options.nats === 'private' ? findNatsServer() : undefined
  if (options.nats === 'private' && !natsServer) t.comment('nats-server is not installed: the shared NATS server instead of a private one')
  const missing: string[] = []
  if (!(await reachableUrl(SERVER_URL, 5432))) missing.push(`PostgreSQL at ${new URL(SERVER_URL).host}`)
  if (!natsServer && !(await reachableUrl(NATS_URL, 4222))) missing.push(`NATS at ${NATS_URL}`)
  const gateway = gatewayMissing()
  if (gateway) missing.push(gateway)
  if (missing.length > 0) {
    if (required) throw new Error(`services mode needs ${missing.join(', ')} (REQUIRE_INFRA=1)`)
    t.plan(0, `services mode needs ${missing.join(', ')}`)
    return undefined
  }

  const name = `chat_e2e_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`
  const databaseUrl = urlOfDatabase(SERVER_URL, name)
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-e2e-'))
  const logs: string[] = []
  let running: RunningServices | undefined
  let nats: NatsServerProcess | undefined
  // One teardown, in order: the processes, the private NATS server, then their database.
  t.teardown(async () => {
    await running?.stop()
    await nats?.destroy()
    rmSync(dataDir, { recursive: true, force: true })
    await dropDatabase(SERVER_URL, name)
  })

  // A base port per test process, so that parallel test files do not race for the same ports:
  // 600 blocks of 20 ports (a run takes 8) in 20000..31999, below Linux's ephemeral range
  // (32768..60999), where an outgoing connection could take a port between the launcher's
  // free-port check and the service's listen (EADDRINUSE).
  const basePort = 20_000 + ((process.pid * 37) % 600) * 20
  try {
    const natsPasswords = Object.fromEntries(NATS_USER_NAMES.map((user) => [user, generateNatsPassword()])) as Record<NatsUser, string>
    if (natsServer) {
      nats = await startNatsServer({ storeDir: join(dataDir, 'nats'), args: ['-c', PERMISSIONS_CONF], env: natsServerEnv(natsPasswords), log: (line) => { logs.push(line) } })
    }
    running = await startServices({
      services: options.services ?? SERVICE_NAMES,
      databaseUrl,
      natsUrl: nats?.url ?? NATS_URL,
      ...(nats ? { natsPasswords } : {}),
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
