// `npm run start:services [-- --services identity,rooms,messages]`: the services mode without Docker. Each service in
// its own process against the local PostgreSQL and nats-server, nginx in front
// on GATEWAY_PORT (8080) when it is installed. Expects `npm run build` done.
//
// Importable too: `startServices(options)` is what the end-to-end tests use,
// with their own database and ports.
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createDatabase, databaseNameOf, databaseUrl as urlOfDatabase } from '@chat/db'
import { findNginx, nginxArgs, writeNginxConfig, type GatewayUpstream } from './nginx/render.js'

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/chat'
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222'
export const DEFAULT_GATEWAY_PORT = 8080

/** Every service of the services mode, with its default port (the PORT default of its config schema). */
export const SERVICES = {
  identity: { port: 3001, signs: true, nats: false },
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
  /** Default: NATS_URL, else nats://127.0.0.1:4222. */
  natsUrl?: string
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
}

export interface RunningServices {
  /** http://127.0.0.1:<gateway port>, or null when no gateway runs. */
  gatewayUrl: string | null
  services: { name: string; url: string }[]
  databaseUrl: string
  stop(): Promise<void>
}

interface Child {
  name: string
  process: ChildProcess
  exited: Promise<number | null>
  recent: string[]
  /** How to ask it to stop. */
  stopSignal: NodeJS.Signals
}

class StartError extends Error {}

/** Starts the services mode; resolves once every service answers /readyz (and the gateway listens). */
export async function startServices(options: StartServicesOptions = {}): Promise<RunningServices> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`))
  const wanted = new Set<ServiceName>(['identity', ...(options.services ?? SERVICE_NAMES)])
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL
  const natsUrl = options.natsUrl ?? process.env.NATS_URL ?? DEFAULT_NATS_URL
  const dataDir = resolve(options.dataDir ?? join(REPO_ROOT, 'data', 'services'))
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000

  checkBuilt(wanted)
  const needsNats = [...wanted].some((name) => SERVICES[name].nats)
  await checkDatabaseServer(databaseUrl)
  if (needsNats) await checkNats(natsUrl)
  await ensureDatabase(databaseUrl, log)

  const children: Child[] = []
  let stopping: Promise<void> | undefined
  // Children run in their own process groups (so that Ctrl-C reaches only
  // this launcher, which then stops them in order); never leave them behind.
  const killAll = (): void => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL')
  }
  process.once('exit', killAll)
  const stop = (): Promise<void> => (stopping ??= stopChildren(children, log).finally(() => process.removeListener('exit', killAll)))

  try {
    await runMigrations(databaseUrl, log)
    const privateKey = options.jwtPrivateKey ?? process.env.JWT_PRIVATE_KEY ?? signingKey(dataDir, log)

    const ports = await assignPorts(wanted, options.realtimeReplicas ?? 2, options.basePort)
    const baseEnv = childBaseEnv(options.env)
    const identityUrl = `http://127.0.0.1:${ports.get('identity')![0]}`
    const started: { name: string; url: string }[] = []

    const launch = (service: ServiceName, port: number, name: string): Child => {
      const env: NodeJS.ProcessEnv = { ...baseEnv, PORT: String(port), HOST: '127.0.0.1', TRUST_PROXY_HOPS: '1', DATABASE_URL: databaseUrl }
      if (SERVICES[service].signs) env.JWT_PRIVATE_KEY = privateKey
      else env.JWKS_URL = `${identityUrl}/.well-known/jwks.json`
      if (SERVICES[service].nats) env.NATS_URL = natsUrl
      const child = spawnChild(name, process.execPath, [serviceMain(service)], { env, cwd: REPO_ROOT }, log, 'SIGTERM')
      void child.exited.then((code) => { if (!stopping) log(`launcher   | ${name} exited (${code})`) })
      children.push(child)
      started.push({ name, url: `http://127.0.0.1:${port}` })
      return child
    }

    // identity first: the others fetch its JWKS.
    const identity = launch('identity', ports.get('identity')![0]!, 'identity')
    await waitReady(identity, `${identityUrl}/readyz`, readyTimeoutMs)
    const rest = [...wanted].filter((name) => name !== 'identity').flatMap((service) =>
      ports.get(service)!.map((port, index, all) => {
        const name = all.length > 1 ? `${service}-${index + 1}` : service
        return { child: launch(service, port, name), url: `http://127.0.0.1:${port}/readyz` }
      })
    )
    await Promise.all(rest.map(({ child, url }) => waitReady(child, url, readyTimeoutMs)))

    let gatewayUrl: string | null = null
    if (options.gateway !== false) {
      const nginx = findNginx()
      if (!nginx) {
        if (options.gateway === 'required') throw new StartError('nginx is not installed (looked at NGINX_BIN, /usr/sbin/nginx and the PATH)')
        log('launcher   | nginx is not installed: no gateway; call the services on their own ports:')
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
        const { configPath } = writeNginxConfig({
          listen: `127.0.0.1:${gatewayPort}`,
          upstreams,
          staticRoot: options.staticRoot ?? join(REPO_ROOT, 'apps', 'web', 'dist'),
          workDir,
          jsonBodyMax: jsonBodyMax(options.env?.BODY_LIMIT_BYTES ?? process.env.BODY_LIMIT_BYTES)
        })
        // nginx stops gracefully on SIGQUIT; its work folder goes with it.
        const gateway = spawnChild('nginx', nginx, nginxArgs(workDir, configPath), { cwd: workDir }, log, 'SIGQUIT')
        void gateway.exited.then(() => rmSync(workDir, { recursive: true, force: true }))
        children.unshift(gateway)
        await waitListening(gateway, gatewayPort, readyTimeoutMs)
        gatewayUrl = `http://127.0.0.1:${gatewayPort}`
      }
    }
    return { gatewayUrl, services: started, databaseUrl, stop }
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

async function checkNats(natsUrl: string): Promise<void> {
  if (!/^nats:\/\//.test(natsUrl) || !URL.canParse(natsUrl)) return // tls:// and ws:// are left to the services
  const url = new URL(natsUrl)
  if (!(await reachable(url.hostname || '127.0.0.1', Number(url.port || 4222)))) {
    throw new StartError(`NATS is not reachable at ${url.hostname}:${url.port || 4222} (NATS_URL=${natsUrl}); start \`nats-server -js\``)
  }
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port })
    socket.setTimeout(2_000)
    socket.once('connect', () => { socket.destroy(); done(true) })
    socket.once('timeout', () => { socket.destroy(); done(false) })
    socket.once('error', () => done(false))
  })
}

/** Creates the database named by the URL when it does not exist (connecting to the `postgres` database). */
export async function ensureDatabase(url: string, log: (line: string) => void = () => {}): Promise<void> {
  const name = databaseNameOf(url)
  if (!name) throw new StartError('DATABASE_URL names no database')
  if (await createDatabase(urlOfDatabase(url, 'postgres'), name, { ifMissing: true })) log(`launcher   | created database ${name}`)
}

async function runMigrations(databaseUrl: string, log: (line: string) => void): Promise<void> {
  const child = spawnChild('migrate', process.execPath, [join(REPO_ROOT, 'packages', 'db', 'dist', 'migrate-cli.js'), 'up'], { env: { ...process.env, DATABASE_URL: databaseUrl }, cwd: REPO_ROOT }, log, 'SIGTERM')
  const code = await child.exited
  if (code !== 0) throw new StartError(`migrations failed (exit ${code}): ${child.recent.at(-1) ?? ''}`)
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
  for (const name of ['PORT', 'HOST', 'JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY', 'JWKS_URL', 'DATABASE_URL', 'NATS_URL', 'TRUST_PROXY_HOPS']) delete env[name]
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

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer()
    server.once('error', () => done(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => done(true)))
  })
}

async function freePort(from: number): Promise<number> {
  for (let port = from; port < Math.min(from + 1000, 65_536); port++) if (await portIsFree(port)) return port
  throw new StartError(`no free port between ${from} and ${from + 999}`)
}

function spawnChild(
  name: string,
  command: string,
  args: string[],
  spawnOptions: { env?: NodeJS.ProcessEnv; cwd: string },
  log: (line: string) => void,
  stopSignal: NodeJS.Signals
): Child {
  const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const recent: string[] = []
  const prefix = `${name.padEnd(11)}|`
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      recent.push(line)
      if (recent.length > 20) recent.shift()
      log(`${prefix} ${line}`)
    })
  }
  const exited = new Promise<number | null>((done) => {
    child.once('error', (error) => {
      recent.push(error.message)
      done(-1)
    })
    child.once('exit', (code, signal) => done(code ?? (signal ? 128 : null)))
  })
  return { name, process: child, exited, recent, stopSignal }
}

async function waitReady(child: Child, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exitCode: number | null | undefined
  void child.exited.then((code) => { exitCode = code })
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new StartError(`${child.name} exited (${exitCode}) before it was ready: ${child.recent.slice(-3).join(' / ')}`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      await response.arrayBuffer()
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((wake) => setTimeout(wake, 150))
  }
  throw new StartError(`${child.name} was not ready within ${timeoutMs} ms (${url}): ${child.recent.slice(-3).join(' / ')}`)
}

async function waitListening(child: Child, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exitCode: number | null | undefined
  void child.exited.then((code) => { exitCode = code })
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new StartError(`${child.name} exited (${exitCode}): ${child.recent.slice(-3).join(' / ')}`)
    if (await reachable('127.0.0.1', port)) return
    await new Promise((wake) => setTimeout(wake, 100))
  }
  throw new StartError(`${child.name} did not listen on ${port} within ${timeoutMs} ms`)
}

/** The gateway first (no new requests), then every service at once; SIGKILL for whatever outlives its shutdown timeout. */
async function stopChildren(children: Child[], log: (line: string) => void, graceMs = 15_000): Promise<void> {
  const stopOne = async (child: Child): Promise<void> => {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return
    child.process.kill(child.stopSignal)
    const timer = setTimeout(() => {
      log(`launcher   | ${child.name} did not stop within ${graceMs} ms: killing it`)
      child.process.kill('SIGKILL')
    }, graceMs)
    await child.exited
    clearTimeout(timer)
  }
  const [first, ...rest] = children
  if (first?.name === 'nginx') await stopOne(first)
  await Promise.all((first?.name === 'nginx' ? rest : children).map(stopOne))
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
