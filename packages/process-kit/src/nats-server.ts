// nats-server processes of a test's own: one, or a cluster of three with
// routes and JetStream, each on ports of its own, killed and restarted at
// will. For tests and the chaos run; the shared server on 4222 is never touched.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { ManagedProcess } from './child.js'
import { freePort } from './ports.js'

/** The nats-server binary: NATS_SERVER_BIN, the usual places, then the PATH. */
export function findNatsServer(): string | undefined {
  const candidates = [
    process.env.NATS_SERVER_BIN,
    '/usr/sbin/nats-server',
    '/usr/local/bin/nats-server',
    '/usr/bin/nats-server',
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'nats-server'))
  ]
  return candidates.find((candidate): candidate is string => candidate !== undefined && candidate !== '' && existsSync(candidate))
}

export interface NatsServerProcess {
  readonly name: string
  /** The process itself, for signals (SIGSTOP...). */
  readonly process: ManagedProcess
  /** `nats://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  readonly running: boolean
  /** Starts it (again, on the same ports and store); resolves once it is ready for clients. */
  start(): Promise<void>
  /** SIGTERM (lame duck and exit) or SIGKILL; resolves once it has exited. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>
  /** Stops it and removes its store. */
  destroy(): Promise<void>
}

export interface NatsServerOptions {
  /** Shown in logs and used as the JetStream server name (unique in a cluster). */
  name?: string
  port?: number
  /** JetStream with a file store (default true). */
  jetstream?: boolean
  /** Store folder (default: a temp folder of its own, removed by destroy). */
  storeDir?: string
  /** More command-line arguments (a config file, cluster routes...). */
  args?: string[]
  /** Variables added to this environment; a config file reads `$NAME`s from it (passwords, kept out of the file). */
  env?: Record<string, string>
  log?: (line: string) => void
}

/**
 * @example
 * const nats = await startNatsServer()
 * t.teardown(() => nats.destroy())
 * await nats.stop('SIGKILL'); await nats.start()
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerProcess> {
  const binary = findNatsServer()
  if (!binary) throw new Error('nats-server is not installed (NATS_SERVER_BIN, /usr/sbin, the PATH)')
  const name = options.name ?? 'nats'
  const port = options.port ?? (await freePort())
  const ownStore = options.storeDir === undefined
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'chat-nats-'))
  mkdirSync(storeDir, { recursive: true })
  const args = ['-a', '127.0.0.1', '-p', String(port), '-n', name, ...(options.jetstream === false ? [] : ['-js', '-sd', storeDir]), ...(options.args ?? [])]
  const env = options.env ? { ...process.env, ...options.env } : undefined
  const managed = new ManagedProcess({ name, command: binary, args, ...(env ? { env } : {}) }, options.log)

  const server: NatsServerProcess = {
    name,
    process: managed,
    url: `nats://127.0.0.1:${port}`,
    port,
    get running() {
      return managed.running
    },
    async start() {
      if (managed.running) return
      await managed.start().waitForLine(/Server is ready/)
    },
    async stop(signal = 'SIGTERM') {
      if (!managed.running) return
      if (signal === 'SIGKILL') {
        await managed.kill()
        return
      }
      await managed.stop(10_000)
    },
    async destroy() {
      await managed.kill()
      if (ownStore) rmSync(storeDir, { recursive: true, force: true })
    }
  }
  await server.start()
  return server
}

export interface NatsCluster {
  readonly servers: NatsServerProcess[]
  /** Every server's URL, comma-separated (what NATS_URL takes). */
  readonly url: string
  destroy(): Promise<void>
}

/**
 * Three (or `size`) nats-servers routed into one cluster with JetStream, so
 * that a stream with three replicas survives one of them dying.
 */
export async function startNatsCluster(options: Pick<NatsServerOptions, 'args' | 'env' | 'log'> & { size?: number } = {}): Promise<NatsCluster> {
  const size = options.size ?? 3
  const root = mkdtempSync(join(tmpdir(), 'chat-nats-cluster-'))
  const clientPorts: number[] = []
  const routePorts: number[] = []
  for (let index = 0; index < size; index++) {
    clientPorts.push(await freePort())
    routePorts.push(await freePort())
  }
  const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`).join(',')
  const servers: NatsServerProcess[] = []
  try {
    // Each waits for "ready" only for itself; the others start in parallel so that JetStream finds its peers.
    const started = await Promise.allSettled(
      routePorts.map((routePort, index) =>
        startNatsServer({
          name: `nats-${index + 1}`,
          port: clientPorts[index],
          storeDir: join(root, `n${index + 1}`),
          args: ['--cluster_name', 'chat', '--cluster', `nats://127.0.0.1:${routePort}`, '--routes', routes, ...(options.args ?? [])],
          ...(options.env ? { env: options.env } : {}),
          log: options.log
        })
      )
    )
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value)
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected')
    if (failed) throw failed.reason
  } catch (error) {
    await Promise.all(servers.map((server) => server.destroy()))
    rmSync(root, { recursive: true, force: true })
    throw error
  }
  return {
    servers,
    url: servers.map((server) => server.url).join(','),
    async destroy() {
      await Promise.all(servers.map((server) => server.destroy()))
      rmSync(root, { recursive: true, force: true })
    }
  }
}
