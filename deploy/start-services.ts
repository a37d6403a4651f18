// `npm run start:services [-- --services identity,rooms,messages]`: the services mode without Docker. Each service in
// its own process against the local PostgreSQL and a nats-server of the
// launcher's own with the shipped permissions (or NATS_URL's), nginx in front
// on GATEWAY_PORT (8080) when it is installed. Expects `npm run build` done.
//
// Importable too: `startServices(options)` is what the end-to-end tests use,
// with their own database and ports.
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createDatabase, databaseNameOf, databaseUrl as urlOfDatabase } from '@chat/db'
import { ManagedProcess, freePort, portIsFree, reachable, waitHttpOk, waitListening, type ProcessExit } from '@chat/process-kit'
import { NATS_CREDENTIAL_VARIABLES, launcherNats, serviceNatsEnv, type LauncherNats } from './nats/launcher.js'
import type { NatsUser } from './nats/permissions.js'
import { findNginx, gatewayMissing, nginxArgs, writeNginxConfig, type GatewayUpstream } from './nginx/render.js'

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/chat'
/** The development NATS the tests share (the launcher itself starts its own without NATS_URL). */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222'
export const DEFAULT_GATEWAY_PORT = 8080

/** Every service of the services mode, with its default port (the PORT default of its config schema). */
export const SERVICES = {
  identity: { port: 3001, signs: true, nats: true },
  rooms: { port: 3002, signs: false, nats: true },
  messages: { port: 3003, signs: false, nats: true },
  reactions: { port: 3004, signs: false, nats: true },
  realtime: { port: 3005, signs: false, nats: true }
} as const satisfies Record<GatewayUpstream, { port: number; signs: boolean; nats: boolean }>
export type ServiceName = keyof typeof SERVICES
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[]

export interface StartServicesOptions {
  /** Which services to start (default: all five). identity is always started: the others verify with its JWKS. */
  services?: readonly ServiceName[]
  /** Realtime gateway processes (default 2, on consecutive ports). */
  realtimeReplicas?: number
  /** Default: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/chat. Created when missing. */
  databaseUrl?: string
  /**
   * A running NATS (default NATS_URL). Without either, the launcher starts a
   * nats-server of its own with deploy/nats/permissions.conf (process `nats`).
   */
  natsUrl?: string
  /**
   * Passwords of the NATS users (deploy/nats/permissions.ts) on natsUrl's
   * server; default NATS_PASSWORD_<USER> of the environment; none for a
   * server without authorization.
   */
  natsPasswords?: Partial<Record<NatsUser, string>>
  /**
   * Without it the services take their default ports (3001..3006). With it,
   * each takes the first free port from basePort upwards (children cannot
   * listen on port 0 and report back), the gateway included unless
   * gatewayPort is given.
   */
  basePort?: number
  /** Default: GATEWAY_PORT, else 8080 (or a free port from basePort). */
  gatewayPort?: number
  /** 'auto' (default): nginx when installed; 'required': fail without it; false: no gateway. */
  gateway?: 'auto' | 'required' | false
  /** Folder of the signing key (`signing-key.pem`, created when missing) and the gateway's files. Default ./data/services. */
  dataDir?: string
  /** PKCS#8 PEM; default JWT_PRIVATE_KEY, else the key file of dataDir. */
  jwtPrivateKey?: string
  /** Folder the gateway serves at `/`. Default apps/web/dist. */
  staticRoot?: string
  /** More variables for every service (LOG_LEVEL, ...). Each service still reads only its own. */
  env?: Record<string, string>
  /** Where the prefixed log lines go (default standard output). */
  log?: (line: string) => void
  /** Milliseconds to wait for each /readyz (default 30 s). */
  readyTimeoutMs?: number
  /** Node options before a service's entry point, by service (the send benchmark's `--cpu-prof`). */
  nodeArgs?: Partial<Record<ServiceName, string[]>>
}

export interface RunningServices {
  /** http://127.0.0.1:<gateway port>, or null when no gateway runs. */
  gatewayUrl: string | null
  services: { name: string; url: string }[]
  databaseUrl: string
  /** The NATS the services use (the launcher's own or natsUrl's); null when none of them talks to NATS. */
  natsUrl: string | null
  /**
   * Every process by name (`identity`, `realtime-1`, `nginx`...), to kill,
   * stall or restart one as an orchestrator would (the chaos run does).
   */
  processes: Map<string, ManagedProcess>
  /** Starts a stopped or killed process again; resolves once it is ready. */
  restart(name: string): Promise<void>
  /** nginx's access log (JSON lines), while the gateway runs; null without a gateway. */
  gatewayAccessLog: string | null
  /** Called whenever a process ends without having been asked to (a crash). */
  onCrash(listener: (exit: ProcessExit) => void): void
  stop(): Promise<void>
}

class StartError extends Error {}

/** Starts the services mode; resolves once every service answers /readyz (and the gateway listens). */
export async function startServices(options: StartServicesOptions = {}): Promise<RunningServices> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`))
  const wanted = new Set<ServiceName>(['identity', ...(options.services ?? SERVICE_NAMES)])
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL
  const dataDir = resolve(options.dataDir ?? join(REPO_ROOT, 'data', 'services'))
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000

  checkBuilt(wanted)
  const needsNats = [...wanted].some((name) => SERVICES[name].nats)
  await checkDatabaseServer(databaseUrl)
  await ensureDatabase(databaseUrl, log)

  // Children run in their own process groups (so that Ctrl-C reaches only
  // this launcher, which then stops them in order); ManagedProcess kills them
  // when the launcher exits.
  const children: ManagedProcess[] = []
  const readiness = new Map<string, () => Promise<void>>()
  const crashListeners: Array<(exit: ProcessExit) => void> = []
  const cleanups: Array<() => void> = []
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => (stopping ??= stopChildren(children).finally(() => { for (const cleanup of cleanups) cleanup() }))
  /** Starts `child` and keeps it: `ready` tells when it serves, a crash goes to the listeners. */
  // A child may come started (the own nats-server): start() is then a no-op.
  const adopt = (child: ManagedProcess, ready: (child: ManagedProcess) => Promise<void>): Promise<void> => {
    children.push(child)
    readiness.set(child.name, () => ready(child))
    child.onExit((exit) => {
      if (stopping || exit.requested) return
      log(`launcher   | ${child.name} exited (${exit.code ?? exit.signal})`)
      for (const listener of crashListeners) listener(exit)
    })
    child.start()
    return ready(child)
  }

  try {
    await runMigrations(databaseUrl, log)
    const privateKey = options.jwtPrivateKey ?? process.env.JWT_PRIVATE_KEY ?? signingKey(dataDir, log)
    let nats: LauncherNats | null = null
    if (needsNats) {
      nats = await launcherNats({ url: options.natsUrl ?? process.env.NATS_URL, passwords: options.natsPasswords, dataDir, env: process.env, log })
      const { server } = nats
      if (server) await adopt(server.process, (child) => waitListening(server.port, { process: child, timeoutMs: readyTimeoutMs }))
    }

    const ports = await assignPorts(wanted, options.realtimeReplicas ?? 2, options.basePort)
    const baseEnv = childBaseEnv(options.env)
    const identityUrl = `http://127.0.0.1:${ports.get('identity')![0]}`
    const started: { name: string; url: string }[] = []

    const launch = (service: ServiceName, port: number, name: string): Promise<void> => {
      const env: NodeJS.ProcessEnv = { ...baseEnv, PORT: String(port), HOST: '127.0.0.1', TRUST_PROXY_HOPS: '1', DATABASE_URL: databaseUrl }
      if (SERVICES[service].signs) env.JWT_PRIVATE_KEY = privateKey
      else env.JWKS_URL = `${identityUrl}/.well-known/jwks.json`
      if (SERVICES[service].nats && nats) Object.assign(env, serviceNatsEnv(nats, service))
      started.push({ name, url: `http://127.0.0.1:${port}` })
      const readyUrl = `http://127.0.0.1:${port}/readyz`
      return adopt(
        new ManagedProcess({ name, command: process.execPath, args: [...(options.nodeArgs?.[service] ?? []), serviceMain(service)], env, cwd: REPO_ROOT }, log),
        (child) => waitHttpOk(readyUrl, { process: child, timeoutMs: readyTimeoutMs })
      )
    }

    // identity first: the others fetch its JWKS.
    await launch('identity', ports.get('identity')![0]!, 'identity')
    await Promise.all(
      [...wanted].filter((name) => name !== 'identity').flatMap((service) =>
        ports.get(service)!.map((port, index, all) => launch(service, port, all.length > 1 ? `${service}-${index + 1}` : service))
      )
    )

    let gatewayUrl: string | null = null
    let gatewayAccessLog: string | null = null
    if (options.gateway !== false) {
      const nginx = findNginx()
      const missing = gatewayMissing()
      if (!nginx || missing) {
        if (options.gateway === 'required') throw new StartError(`the gateway needs ${missing} (not installed)`)
        log(`launcher   | ${missing} is not installed: no gateway; call the services on their own ports:`)
        for (const service of started) log(`launcher   |   ${service.name.padEnd(11)} ${service.url}`)
      } else {
        const gatewayPort =
          options.gatewayPort ??
          (process.env.GATEWAY_PORT ? Number(process.env.GATEWAY_PORT) : undefined) ??
          (options.basePort !== undefined ? await freePort(Math.max(...[...ports.values()].flat()) + 1) : DEFAULT_GATEWAY_PORT)
        if (!(await portIsFree(gatewayPort))) throw new StartError(`the gateway port ${gatewayPort} is in use (set GATEWAY_PORT)`)
        const upstreams: Partial<Record<GatewayUpstream, string[]>> = {}
        for (const [service, list] of ports) upstreams[service] = list.map((port) => `127.0.0.1:${port}`)
        mkdirSync(dataDir, { recursive: true })
        const workDir = mkdtempSync(join(tmpdir(), 'chat-gateway-'))
        cleanups.push(() => rmSync(workDir, { recursive: true, force: true }))
        const { configPath } = writeNginxConfig({
          listen: `127.0.0.1:${gatewayPort}`,
          upstreams,
          staticRoot: options.staticRoot ?? join(REPO_ROOT, 'apps', 'web', 'dist'),
          workDir,
          jsonBodyMax: jsonBodyMax(options.env?.BODY_LIMIT_BYTES ?? process.env.BODY_LIMIT_BYTES)
        })
        // nginx stops gracefully on SIGQUIT.
        await adopt(
          new ManagedProcess({ name: 'nginx', command: nginx, args: nginxArgs(workDir, configPath), cwd: workDir, stopSignal: 'SIGQUIT' }, log),
          (child) => waitListening(gatewayPort, { process: child, timeoutMs: readyTimeoutMs })
        )
        gatewayUrl = `http://127.0.0.1:${gatewayPort}`
        gatewayAccessLog = join(workDir, 'access.log')
      }
    }
    return {
      gatewayUrl,
      gatewayAccessLog,
      services: started,
      databaseUrl,
      natsUrl: nats?.url ?? null,
      processes: new Map(children.map((child) => [child.name, child])),
      async restart(name) {
        const child = children.find((candidate) => candidate.name === name)
        if (!child) throw new StartError(`no process ${name}`)
        if (!child.running) child.start()
        await readiness.get(name)!()
      },
      onCrash(listener) {
        crashListeners.push(listener)
      },
      stop
    }
  } catch (error) {
    await stop()
    throw error
  }
}

function checkBuilt(wanted: Set<ServiceName>): void {
  const missing = [join(REPO_ROOT, 'packages', 'db', 'dist', 'migrate-cli.js'), ...[...wanted].map(serviceMain)].filter((file) => !existsSync(file))
  if (missing.length > 0) {
    throw new StartError(`not built: ${missing.map((file) => file.slice(REPO_ROOT.length)).join(', ')}. Run \`npm run build\` first.`)
  }
}

function serviceMain(service: ServiceName): string {
  return join(REPO_ROOT, 'services', service, 'dist', 'main.js')
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}

async function checkDatabaseServer(databaseUrl: string): Promise<void> {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl) || !URL.canParse(databaseUrl)) throw new StartError(`DATABASE_URL is not a postgres:// URL: ${redact(databaseUrl)}`)
  const url = new URL(databaseUrl)
  if (!(await reachable(url.hostname || '127.0.0.1', Number(url.port || 5432)))) {
    throw new StartError(`PostgreSQL is not reachable at ${url.hostname}:${url.port || 5432} (DATABASE_URL=${redact(databaseUrl)})`)
  }
}

/** Creates the database named by the URL when it does not exist (connecting to the `postgres` database). */
export async function ensureDatabase(url: string, log: (line: string) => void = () => {}): Promise<void> {
  const name = databaseNameOf(url)
  if (!name) throw new StartError('DATABASE_URL names no database')
  if (await createDatabase(urlOfDatabase(url, 'postgres'), name, { ifMissing: true })) log(`launcher   | created database ${name}`)
}

async function runMigrations(databaseUrl: string, log: (line: string) => void): Promise<void> {
  const migrate = new ManagedProcess(
    { name: 'migrate', command: process.execPath, args: [join(REPO_ROOT, 'packages', 'db', 'dist', 'migrate-cli.js'), 'up'], env: { ...process.env, DATABASE_URL: databaseUrl }, cwd: REPO_ROOT },
    log
  ).start()
  const exit = await migrate.exited
  if (exit.code !== 0) throw new StartError(`migrations failed (exit ${exit.code ?? exit.signal}): ${migrate.recent.at(-1) ?? ''}`)
}

function signingKey(dataDir: string, log: (line: string) => void): string {
  const file = join(dataDir, 'signing-key.pem')
  if (existsSync(file)) return readFileSync(file, 'utf8')
  mkdirSync(dataDir, { recursive: true })
  const { privateKey } = generateKeyPairSync('ed25519')
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  writeFileSync(file, pem, { mode: 0o600 })
  log(`launcher   | created the token signing key ${file}`)
  return pem
}

/** Variables every child inherits: the launcher's environment without the ones it sets per service. */
function childBaseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  for (const name of ['PORT', 'HOST', 'JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY', 'JWKS_URL', 'DATABASE_URL', 'NATS_URL', 'TRUST_PROXY_HOPS', ...NATS_CREDENTIAL_VARIABLES]) delete env[name]
  return env
}

/** nginx's JSON body limit: twice BODY_LIMIT_BYTES (never below 128k), so that the services answer their own 413s. */
function jsonBodyMax(bodyLimitBytes: string | undefined): string | undefined {
  const bytes = Number(bodyLimitBytes)
  if (!Number.isInteger(bytes) || bytes <= 64 * 1024) return undefined
  return `${Math.ceil((bytes * 2) / 1024)}k`
}

async function assignPorts(wanted: Set<ServiceName>, realtimeReplicas: number, basePort: number | undefined): Promise<Map<ServiceName, number[]>> {
  const ports = new Map<ServiceName, number[]>()
  let next = basePort
  for (const service of SERVICE_NAMES) {
    if (!wanted.has(service)) continue
    const count = service === 'realtime' ? Math.max(1, realtimeReplicas) : 1
    const list: number[] = []
    for (let index = 0; index < count; index++) {
      if (next === undefined) {
        const port = SERVICES[service].port + index
        if (!(await portIsFree(port))) throw new StartError(`port ${port} (${service}) is in use: stop what holds it, or pass a base port`)
        list.push(port)
      } else {
        const port = await freePort(next)
        list.push(port)
        next = port + 1
      }
    }
    ports.set(service, list)
  }
  return ports
}

/**
 * The gateway first (no new requests), then every service at once, then the
 * own nats-server (the services drain into it); SIGKILL for whatever outlives
 * its shutdown timeout.
 */
async function stopChildren(children: ManagedProcess[], graceMs = 15_000): Promise<void> {
  const gateway = children.find((child) => child.name === 'nginx')
  const nats = children.find((child) => child.name === 'nats')
  if (gateway) await gateway.stop(graceMs)
  await Promise.all(children.filter((child) => child !== gateway && child !== nats).map((child) => child.stop(graceMs)))
  if (nats) await nats.stop(graceMs)
}

async function main(): Promise<void> {
  const log = (line: string): void => void process.stdout.write(`${line}\n`)
  let running: RunningServices | undefined
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    log(`launcher   | ${signal}: stopping`)
    void (running?.stop() ?? Promise.resolve()).then(() => process.exit(0))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let services: ServiceName[] | undefined
  try {
    const { values } = parseArgs({ options: { services: { type: 'string' } } })
    if (values.services !== undefined) {
      services = values.services.split(',').map((name) => name.trim()).filter(Boolean) as ServiceName[]
      const unknown = services.filter((name) => !SERVICE_NAMES.includes(name))
      if (unknown.length > 0) throw new StartError(`unknown service ${unknown.join(', ')} (known: ${SERVICE_NAMES.join(', ')})`)
    }
    running = await startServices({ log, services })
  } catch (error) {
    console.error(`start:services: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  }
  if (stopping) return
  log('launcher   | ready:')
  for (const service of running.services) log(`launcher   |   ${service.name.padEnd(11)} ${service.url}`)
  if (running.gatewayUrl) log(`launcher   | gateway: ${running.gatewayUrl}`)
  log('launcher   | Ctrl-C stops everything')
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
