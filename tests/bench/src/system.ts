// One system under benchmark: the services mode of a checkout (this one, or
// a built checkout of another commit to compare with) behind its nginx
// gateway, on a database of its own on the benchmark's PostgreSQL and a
// nats-server of its own, seeded with users and rooms and their tokens.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createDb } from '@chat/db'
import { startNatsServer, type NatsServerProcess } from '@chat/process-kit'
import { createTokenSigner, signingKeyFromPem } from '@chat/service-kit'

export interface SystemSpec {
  /** Shown in the tables. */
  name: string
  /** The checkout whose built services run (its deploy/start-services.ts starts them). */
  root: string
  /** Variables for every service of this system (a setting that picks a code path). */
  env: Record<string, string>
  /** Node options by service (`--cpu-prof`); a launcher that predates them ignores them. */
  nodeArgs?: Record<string, string[]>
}

export interface Sender {
  roomId: string
  authorization: string
}

export interface RunningSystem {
  spec: SystemSpec
  gatewayUrl: string
  senders: Sender[]
  /** The processes this system started (its services, nginx, nats-server): their children are its too. */
  rootPids(): Set<number>
  /** Its database's name: PostgreSQL titles each backend with it. */
  databaseName: string
  databaseUrl: string
  /** Each service's own address (its /metrics), when the launcher says. */
  services: Array<{ name: string; url: string }>
  stop(): Promise<void>
}

/** What every launcher version returns (older ones have no more). */
interface LauncherResult {
  gatewayUrl: string | null
  services?: Array<{ name: string; url: string }>
  processes?: Map<string, { pid: number | undefined }>
  stop(): Promise<void>
}
type StartServices = (options: Record<string, unknown>) => Promise<LauncherResult>

export interface SeedOptions {
  rooms: number
  participantsPerRoom: number
}

export async function startSystem(
  spec: SystemSpec,
  options: SeedOptions & { serverUrl: string; privateKeyPem: string; basePort: number; log: (line: string) => void }
): Promise<RunningSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-bench-'))
  const databaseUrl = options.serverUrl.replace(/\/postgres$/, `/bench_${spec.name.replace(/\W/g, '_')}_${randomUUID().slice(0, 6)}`)
  let nats: NatsServerProcess | undefined
  let running: LauncherResult | undefined
  const stop = async (): Promise<void> => {
    await running?.stop()
    await nats?.destroy()
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    nats = await startNatsServer({ name: `nats-${spec.name}` })
    const launcher = (await import(pathToFileURL(join(spec.root, 'deploy', 'start-services.ts')).href)) as { startServices: StartServices }
    running = await launcher.startServices({
      databaseUrl,
      natsUrl: nats.url,
      basePort: options.basePort,
      gateway: 'required',
      dataDir,
      staticRoot: join(dataDir, 'web'),
      jwtPrivateKey: options.privateKeyPem,
      realtimeReplicas: 1,
      nodeArgs: spec.nodeArgs,
      env: {
        LOG_LEVEL: 'warn',
        // The benchmark is one client sending for 500 users: no per-user or per-address limit applies.
        RATE_LIMIT_USER_RPS: '0',
        RATE_LIMIT_AUTH_PER_MINUTE: '0',
        ...spec.env
      },
      log: options.log
    })
    if (!running.gatewayUrl) throw new Error(`${spec.name}: no gateway`)
    const senders = await seed(databaseUrl, options.privateKeyPem, options)
    const launched = running
    const rootPids = (): Set<number> =>
      new Set([nats?.process.pid, ...[...(launched.processes?.values() ?? [])].map((child) => child.pid)].filter((pid): pid is number => pid !== undefined))
    return { spec, gatewayUrl: running.gatewayUrl, senders, rootPids, databaseName: new URL(databaseUrl).pathname.slice(1), databaseUrl, services: running.services ?? [], stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Users and rooms written straight into the database (registering 500 users would cost minutes of argon2), and a token for each. */
async function seed(databaseUrl: string, privateKeyPem: string, options: SeedOptions): Promise<Sender[]> {
  const database = await createDb(databaseUrl, { poolSize: 2 })
  try {
    const db = database.db
    const signer = createTokenSigner(signingKeyFromPem(privateKeyPem), 24 * 3600)
    const count = options.rooms * options.participantsPerRoom
    const suffix = randomUUID().slice(0, 6)
    const users = await db
      .insertInto('users')
      .values(Array.from({ length: count }, (_, index) => ({ display_name: `bench-${suffix}-${index}`, display_name_key: `bench-${suffix}-${index}`, password_hash: 'x' })))
      .returning(['id', 'display_name'])
      .execute()
    const senders: Sender[] = []
    for (let room = 0; room < options.rooms; room++) {
      const members = users.slice(room * options.participantsPerRoom, (room + 1) * options.participantsPerRoom)
      const { id: roomId } = await db.insertInto('rooms').values({ name: `room ${room}`, created_by: members[0]!.id }).returning('id').executeTakeFirstOrThrow()
      await db
        .insertInto('room_participants')
        .values(members.map((member, index) => ({ room_id: roomId, user_id: member.id, role: index === 0 ? ('owner' as const) : ('member' as const) })))
        .execute()
      for (const member of members) {
        senders.push({ roomId, authorization: `Bearer ${signer.sign({ id: member.id, displayName: member.display_name }).token}` })
      }
    }
    return senders
  } finally {
    await database.destroy()
  }
}
