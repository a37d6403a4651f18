// The nginx gateway when realtime replicas die and come back, with real
// nginx in front of two WebSocket upstreams that the test stops and restarts
// on their ports, as an orchestrator restarts pods:
// - no client is locked out while one replica is up (nginx's passive checks
//   recover a server only when a request to it completes, which a socket
//   never does while it lives);
// - no token from a socket's query reaches the error log, whose lines carry
//   the request line and the upstream URI.
import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import WebSocket, { WebSocketServer } from 'ws'
import { findNginx, gatewayMissing, writeNginxConfig } from '../../../deploy/nginx/render.js'

/** A WebSocket upstream that can be killed (listener and sockets gone) and started again on the same port. */
class Replica {
  private server: Server | undefined
  private wss: WebSocketServer | undefined
  port = 0

  constructor(readonly name: string) {}

  async start(): Promise<void> {
    const server = createServer((_req, res) => res.writeHead(404).end())
    const wss = new WebSocketServer({ server })
    wss.on('connection', (socket) => socket.send(this.name))
    await new Promise<void>((done) => server.listen(this.port, '127.0.0.1', done))
    this.port = (server.address() as AddressInfo).port
    this.server = server
    this.wss = wss
  }

  async kill(): Promise<void> {
    for (const socket of this.wss?.clients ?? []) socket.terminate()
    this.server?.closeAllConnections()
    await new Promise((done) => this.server?.close(done) ?? done(undefined))
    this.server = undefined
  }
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => done(port))
    })
  })
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => { socket.destroy(); done(true) })
    socket.once('error', () => done(false))
  })
}

/** Opens a socket through the gateway: the replica's name, or the HTTP status that refused the upgrade. */
function openSocket(gatewayPort: number, path: string, sockets: Set<WebSocket>): Promise<{ replica?: string; status?: number }> {
  return new Promise((done) => {
    const socket = new WebSocket(`ws://127.0.0.1:${gatewayPort}${path}`)
    socket.once('message', (data: Buffer) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      done({ replica: data.toString() })
    })
    socket.once('unexpected-response', (_req, res) => {
      res.resume()
      done({ status: res.statusCode })
    })
    socket.once('error', () => done({ status: 0 }))
  })
}

const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms))

async function faultTests(t: Test, nginxBin: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'chat-gateway-faults-'))
  chmodSync(work, 0o755) // nginx workers run as nobody when the test runs as root
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  const first = new Replica('realtime-1')
  const second = new Replica('realtime-2')
  await first.start()
  await second.start()
  t.teardown(async () => { await first.kill(); await second.kill() })

  const gatewayPort = await freePort()
  const errorLog = join(work, 'error.log')
  const accessLog = join(work, 'access.log')
  const { args } = writeNginxConfig({
    listen: `127.0.0.1:${gatewayPort}`,
    staticRoot: join(work, 'web'),
    workDir: join(work, 'nginx'),
    errorLog,
    accessLog,
    workerProcesses: 2,
    upstreams: { realtime: [`127.0.0.1:${first.port}`, `127.0.0.1:${second.port}`] }
  })
  const child = spawn(nginxBin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise((done) => child.once('exit', done))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await exited
  })
  const deadline = Date.now() + 10_000
  while (!(await portOpen(gatewayPort))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`nginx did not start (exit ${child.exitCode})`)
    await sleep(50)
  }

  const sockets = new Set<WebSocket>()
  t.teardown(() => { for (const socket of sockets) socket.terminate() })
  /** What `count` clients get when they (re)connect now, each retrying for up to `withinMs` as a client with backoff would. */
  const reconnectAll = async (count: number, withinMs: number): Promise<{ replicas: Map<string, number>; refused: number }> => {
    const replicas = new Map<string, number>()
    let refused = 0
    await Promise.all(
      Array.from({ length: count }, async () => {
        const giveUp = Date.now() + withinMs
        for (;;) {
          const result = await openSocket(gatewayPort, '/ws/', sockets)
          if (result.replica) {
            replicas.set(result.replica, (replicas.get(result.replica) ?? 0) + 1)
            return
          }
          if (Date.now() > giveUp) {
            refused++
            return
          }
          await sleep(200)
        }
      })
    )
    return { replicas, refused }
  }

  await t.test('one replica up is enough, whichever was restarted before', async (t) => {
    const start = await reconnectAll(20, 5_000)
    t.equal(start.refused, 0, 'every client connects')
    t.equal(start.replicas.size, 2, 'sockets are spread over both replicas')

    // The first replica dies; its clients reconnect (to the second); it comes back.
    await first.kill()
    t.equal((await reconnectAll(10, 5_000)).refused, 0, 'clients of the dead replica reconnect to the other')
    await first.start()
    // Longer than the HTTP groups' fail_timeout (5 s): a server marked down
    // would now get a probe, which for a socket never completes.
    await sleep(6_000)
    const probes = await reconnectAll(10, 5_000)
    t.equal(probes.refused, 0, 'new clients connect after the restart')
    t.ok((probes.replicas.get('realtime-1') ?? 0) > 0, 'the restarted replica takes sockets again')

    // Now the second dies: everybody must reach the first, at once.
    await second.kill()
    const after = await reconnectAll(20, 3_000)
    t.equal(after.refused, 0, 'no client is locked out while one replica is up')
    t.same([...after.replicas.keys()], ['realtime-1'], 'they all land on the live replica')
  })

  await t.test('a token in a socket query never reaches the error log', async (t) => {
    await first.kill()
    // Both replicas are down now: each upgrade is an upstream error.
    const secret = 'eyJhbGciOiJFZERTQSJ9.secret-payload.signature'
    const withToken = await openSocket(gatewayPort, `/ws/?token=${secret}`, sockets)
    t.equal(withToken.status, 502, 'an upgrade with ?token= and no replica up is a 502')
    const encoded = await openSocket(gatewayPort, `/ws/chat/0190b7c2-2a7e-7d5c-9b1a-3f2e4d5c6b7a/?after_seq=3&%74oken=${secret}`, sockets)
    t.equal(encoded.status, 502, 'likewise with the name escaped')
    const plain = await openSocket(gatewayPort, '/ws/?after_seq=7', sockets)
    t.equal(plain.status, 502, 'an upgrade without a token: 502 too')

    let errors = ''
    let access = ''
    const until = Date.now() + 5_000
    while (Date.now() < until && !(access.includes('after_seq=7') && errors.includes('after_seq=7'))) {
      await sleep(100)
      errors = readFileSync(errorLog, 'utf8')
      access = readFileSync(accessLog, 'utf8')
    }
    t.notMatch(errors, /secret-payload/, 'the error log holds no token')
    t.notMatch(access, /secret-payload/, 'neither does the access log')
    t.match(errors, /connect\(\) failed .*request: "GET \/ws\/\?after_seq=7 /, 'upstream errors of other upgrades are still explained in the error log')
    const lines = access.trim().split('\n').map((line) => JSON.parse(line) as { uri: string; status: number; upstream_status: string })
    const failed = lines.find((line) => line.uri === '/ws/?token=[redacted]')
    t.match(failed, { status: 502, upstream_status: /502|,/ }, 'the access log tells what happened to the upgrade with a token')
  })
}

const nginx = findNginx()
const gatewayLacks = gatewayMissing()
if (!nginx || gatewayLacks) {
  if (process.env.REQUIRE_INFRA === '1') t.fail(`${gatewayLacks} is not installed and REQUIRE_INFRA=1`)
  else t.plan(0, 'nginx is not installed: skipping the gateway fault tests (REQUIRE_INFRA=1 makes this a failure)')
} else {
  await t.test('the gateway under realtime replica restarts', (t) => faultTests(t, nginx))
}
