// What the chaos run may break: the services mode (every service its own
// process, two realtime replicas, nginx in front) on a PostgreSQL and a
// nats-server (or a cluster of three) that belong to this run alone, with
// the shipped NATS users and permissions (deploy/nats/permissions.conf).
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDb, type Database } from '@chat/db'
import {
  startNatsCluster,
  startNatsServer,
  startPostgresServer,
  type NatsServerProcess,
  type PostgresServer,
  type ProcessExit
} from '@chat/process-kit'
import type { Kysely } from 'kysely'
import { NATS_USER_NAMES, PERMISSIONS_CONF, generateNatsPassword, natsServerEnv, type NatsUser } from '../../../deploy/nats/permissions.js'
import { startServices, type RunningServices } from '../../../deploy/start-services.js'

export interface ChaosEnvironment {
  readonly postgres: PostgresServer
  /** One server, or the three of a cluster. */
  readonly nats: NatsServerProcess[]
  readonly services: RunningServices
  readonly gatewayUrl: string
  /** The run's database, read by the verification at the end. */
  readonly db: Kysely<Database>
  /** Every line any process wrote (services, nginx, nats, postgres), with when it came. */
  readonly logs: LogLine[]
  /** The NATS users' passwords of this run (none may appear in a log line). */
  readonly natsPasswords: Record<NatsUser, string>
  /** Service or nginx exits that nobody asked for. */
  readonly crashes: ProcessExit[]
  stop(): Promise<void>
}

export interface LogLine {
  at: number
  line: string
}

export interface EnvironmentOptions {
  /** Three nats-servers with routes and a three-replica stream instead of one server. */
  natsCluster?: boolean
  /** More variables for every service. */
  env?: Record<string, string>
  /** Live progress lines (the launcher's own, not every service log line). */
  progress?: (line: string) => void
}

export async function startEnvironment(options: EnvironmentOptions = {}): Promise<ChaosEnvironment> {
  const logs: LogLine[] = []
  const keep = (line: string): void => void logs.push({ at: Date.now(), line })
  const progress = options.progress ?? (() => {})
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-chaos-'))
  const cleanups: Array<() => Promise<void>> = [async () => rmSync(dataDir, { recursive: true, force: true })]
  const cleanUp = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
  }
  try {
    const postgres = await startPostgresServer({ log: keep })
    cleanups.push(() => postgres.destroy())
    let nats: NatsServerProcess[]
    const natsPasswords = Object.fromEntries(NATS_USER_NAMES.map((user) => [user, generateNatsPassword()])) as Record<NatsUser, string>
    const natsEnv = natsServerEnv(natsPasswords)
    if (options.natsCluster) {
      const cluster = await startNatsCluster({ log: keep, args: ['-c', PERMISSIONS_CONF], env: natsEnv })
      cleanups.push(() => cluster.destroy())
      nats = cluster.servers
    } else {
      // A small buffer per client (max_pending), so that the slow-consumer fault
      // makes the server cut a frozen gateway off within seconds.
      // nats-server includes only relative paths: the shipped file goes beside this config.
      const config = join(dataDir, 'nats.conf')
      copyFileSync(PERMISSIONS_CONF, join(dataDir, 'permissions.conf'))
      writeFileSync(config, 'max_payload: 131072\nmax_pending: 262144\nwrite_deadline: "1s"\ninclude "permissions.conf"\n')
      const server = await startNatsServer({ log: keep, args: ['-c', config], env: natsEnv })
      cleanups.push(() => server.destroy())
      nats = [server]
    }
    const databaseUrl = postgres.url.replace(/\/postgres$/, '/chat')
    const services = await startServices({
      databaseUrl,
      natsUrl: nats.map((server) => server.url).join(','),
      natsPasswords,
      gateway: 'required',
      basePort: 20_000 + ((process.pid * 37) % 600) * 20,
      dataDir,
      staticRoot: join(dataDir, 'web'),
      env: {
        // info: the request lines are what a token could leak into; the run reads them all.
        LOG_LEVEL: 'info',
        NATS_STREAM_REPLICAS: options.natsCluster ? '3' : '1',
        ...options.env
      },
      log: (line) => {
        keep(line)
        if (line.startsWith('launcher')) progress(line)
      }
    })
    cleanups.push(() => services.stop())
    const crashes: ProcessExit[] = []
    services.onCrash((exit) => crashes.push(exit))
    const database = await createDb(databaseUrl, { poolSize: 4 })
    cleanups.push(() => database.destroy())
    return {
      postgres,
      nats,
      services,
      gatewayUrl: services.gatewayUrl!,
      db: database.db,
      logs,
      natsPasswords,
      crashes,
      stop: cleanUp
    }
  } catch (error) {
    await cleanUp()
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), { logs: logs.slice(-40).map((entry) => entry.line) })
  }
}
