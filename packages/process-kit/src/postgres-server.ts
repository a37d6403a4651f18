// A PostgreSQL server of a test's own: initdb into a temp folder, the
// postmaster as a child process on a port of its own. For tests (and the
// chaos run) that stop, crash and restart the database under running
// services; the shared server on 5432 is never touched.
import { execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { Client } from 'pg'
import { ManagedProcess } from './child.js'
import { freePort, sleep } from './ports.js'

export interface PostgresServerOptions {
  /** Port to listen on (default: a free one picked at start, kept across restarts). */
  port?: number
  /**
   * fsync on, as in production (default off: the fault tests do not test
   * durability, and fsync is slow on a busy machine). Benchmarks of commits
   * want it on.
   */
  durable?: boolean
  /** More server settings (`-c name=value`), e.g. `{ max_connections: '300' }`. */
  settings?: Record<string, string>
  /** Receives the server's log lines. */
  log?: (line: string) => void
}

/** How a running server is brought down; each is what an operator or a crash does to a real one. */
export type PostgresStopMode =
  /** SIGTERM: new connections refused, sessions wait (pg_ctl -m smart). */
  | 'smart'
  /** SIGINT: sessions are cut and the server shuts down cleanly (pg_ctl -m fast). */
  | 'fast'
  /** SIGQUIT: every process quits at once without a checkpoint; the next start recovers from WAL (pg_ctl -m immediate). */
  | 'immediate'

export interface PostgresServer {
  /** The postmaster, for signals (SIGSTOP...). */
  readonly process: ManagedProcess
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string
  readonly port: number
  readonly dataDir: string
  /** True while the postmaster runs. */
  readonly running: boolean
  /** Starts it (again); resolves once it accepts connections. */
  start(): Promise<void>
  stop(mode?: PostgresStopMode): Promise<void>
  /** Stops it (immediately) and removes its folder. */
  destroy(): Promise<void>
}

const SIGNAL_OF: Record<PostgresStopMode, NodeJS.Signals> = { smart: 'SIGTERM', fast: 'SIGINT', immediate: 'SIGQUIT' }

/** Folder of PostgreSQL's server binaries (initdb, postgres), or undefined when none is installed. */
export function findPostgresBinDir(): string | undefined {
  const candidates = [process.env.PG_BIN_DIR, ...(process.env.PATH ?? '').split(delimiter)]
  for (const dir of candidates) if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir
  const debian = '/usr/lib/postgresql'
  if (!existsSync(debian)) return undefined
  const versions = readdirSync(debian).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a))
  return versions.map((version) => join(debian, version, 'bin')).find((dir) => existsSync(join(dir, 'initdb')))
}

/**
 * initdb and start a private server. PostgreSQL refuses to run as root, so
 * under root both run as the `postgres` user (the folder is handed to it).
 *
 * @example
 * const pg = await startPostgresServer()
 * t.teardown(() => pg.destroy())
 * await pg.stop('immediate'); await pg.start()
 */
export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const binDir = findPostgresBinDir()
  if (!binDir) throw new Error('PostgreSQL server binaries not found (set PG_BIN_DIR, or install postgresql)')
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined
  const root = mkdtempSync(join(tmpdir(), 'chat-pg-'))
  const dataDir = join(root, 'data')
  if (owner) chownSync(root, owner.uid, owner.gid)
  try {
    execFileSync(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(owner ?? {})
    })
  } catch (error) {
    rmSync(root, { recursive: true, force: true })
    throw new Error(`initdb failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`, { cause: error })
  }
  const port = options.port ?? (await freePort())
  const settings = { listen_addresses: '127.0.0.1', fsync: options.durable ? 'on' : 'off', max_connections: '200', ...options.settings }
  const postmaster = new ManagedProcess(
    {
      name: 'postgres',
      command: join(binDir, 'postgres'),
      args: ['-D', dataDir, '-p', String(port), '-k', root, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])],
      ...(owner ?? {})
    },
    options.log
  )

  const server: PostgresServer = {
    process: postmaster,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    get running() {
      return postmaster.running
    },
    async start() {
      if (postmaster.running) return
      postmaster.start()
      await waitAccepting(server.url, postmaster)
    },
    async stop(mode = 'fast') {
      if (!postmaster.running) return
      postmaster.signal(SIGNAL_OF[mode])
      const timer = setTimeout(() => void postmaster.kill(), 30_000)
      await postmaster.exited
      clearTimeout(timer)
    },
    async destroy() {
      await server.stop('immediate')
      rmSync(root, { recursive: true, force: true })
    }
  }
  try {
    await server.start()
  } catch (error) {
    await server.destroy()
    throw error
  }
  return server
}

function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
  return { uid, gid }
}

async function waitAccepting(url: string, postmaster: ManagedProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!postmaster.running) throw new Error(`postgres exited before it accepted connections: ${postmaster.tail()}`)
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('select 1')
      return
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${timeoutMs} ms`, { cause: error })
    } finally {
      await client.end().catch(() => undefined)
    }
    await sleep(100)
  }
}
