// The nginx gateway for real: the template rendered with upstreams that are
// tiny HTTP servers answering with their name, nginx started from a temp
// prefix, and requests through it. Needs nginx (/usr/sbin/nginx, NGINX_BIN or
// the PATH): skipped without it, failed without it when REQUIRE_INFRA=1.
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import WebSocket, { WebSocketServer } from 'ws'
import { findNginx, gatewayMissing, writeNginxConfig } from '../../../deploy/nginx/render.js'
import { API_SPEC, SAMPLE_ID, apiRoutes, samplePaths } from './deploy-lib.js'

interface Seen {
  service: string
  method: string
  url: string
  bytes: number
  forwardedFor?: string
  requestId?: string
  upgrade?: string
}

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

const nginx = findNginx()
const gatewayLacks = gatewayMissing()
if (!nginx || gatewayLacks) {
  if (process.env.REQUIRE_INFRA === '1') t.fail(`${gatewayLacks} is not installed and REQUIRE_INFRA=1`)
  else t.plan(0, 'nginx is not installed: skipping the gateway tests (REQUIRE_INFRA=1 makes this a failure)')
} else {
  await t.test('the nginx gateway', (t) => gatewayTests(t, nginx))
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return (server.address() as AddressInfo).port
}

/** An upstream that answers every request with its name and what it received; realtime ones accept sockets too. */
async function upstream(service: string, sockets: boolean): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    // What the gateway's own /readyz and /docs/json ask each service.
    if (req.url === '/readyz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}')
      return
    }
    if (req.url === '/docs/json') {
      const paths = { [`/${service}/thing`]: { get: { operationId: `get_${service}` } }, '/healthz': { get: { operationId: 'healthz' } } }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ openapi: '3.1.0', info: { title: service, version: '0.1.0' }, paths, tags: [{ name: service }] }))
      return
    }
    let bytes = 0
    req.on('data', (chunk: Buffer) => { bytes += chunk.length })
    req.on('end', () => {
      const seen: Seen = {
        service,
        method: req.method ?? '',
        url: req.url ?? '',
        bytes,
        forwardedFor: req.headers['x-forwarded-for'] as string | undefined,
        requestId: req.headers['x-request-id'] as string | undefined
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen))
    })
  })
  if (sockets) {
    const wss = new WebSocketServer({ server })
    wss.on('connection', (socket, req) => {
      const seen: Seen = {
        service,
        method: req.method ?? '',
        url: req.url ?? '',
        bytes: 0,
        forwardedFor: req.headers['x-forwarded-for'] as string | undefined,
        requestId: req.headers['x-request-id'] as string | undefined,
        upgrade: req.headers.upgrade
      }
      socket.send(JSON.stringify(seen))
      socket.on('message', (data) => socket.send((data as Buffer).toString('utf8')))
    })
  }
  return { server, port: await listen(server) }
}

async function freePort(): Promise<number> {
  const server = createServer()
  const port = await listen(server)
  await new Promise((done) => server.close(done))
  return port
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => { socket.destroy(); done(true) })
    socket.once('error', () => done(false))
  })
}

async function gatewayTests(t: Test, nginxBin: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'chat-gateway-test-'))
  chmodSync(work, 0o755) // nginx workers run as nobody when the test runs as root
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  const webRoot = join(work, 'web')
  mkdirSync(webRoot)
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>chat</title>\n')

  const servers = {
    identity: await upstream('identity', false),
    rooms: await upstream('rooms', false),
    messages: await upstream('messages', false),
    reactions: await upstream('reactions', false),
    'realtime-1': await upstream('realtime-1', true),
    'realtime-2': await upstream('realtime-2', true)
  }
  t.teardown(() => { for (const { server } of Object.values(servers)) server.closeAllConnections(); for (const { server } of Object.values(servers)) server.close() })
  const address = (port: number): string => `127.0.0.1:${port}`
  const gatewayPort = await freePort()
  const { configPath, args } = writeNginxConfig({
    listen: address(gatewayPort),
    staticRoot: webRoot,
    workDir: join(work, 'nginx'),
    workerProcesses: 2,
    upstreams: {
      identity: [address(servers.identity.port)],
      rooms: [address(servers.rooms.port)],
      messages: [address(servers.messages.port)],
      reactions: [address(servers.reactions.port)],
      realtime: [address(servers['realtime-1'].port), address(servers['realtime-2'].port)]
    }
  })

  const check = spawnSync(nginxBin, ['-t', ...args.slice(0, -2)], { encoding: 'utf8' })
  t.equal(check.status, 0, `nginx -t accepts the rendered config: ${check.stderr.trim().split('\n').at(-1)}`)

  const stderr: string[] = []
  const child = spawn(nginxBin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  const exited = new Promise((done) => child.once('exit', done))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await exited
  })
  const deadline = Date.now() + 10_000
  while (!(await portOpen(gatewayPort))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`nginx did not start (exit ${child.exitCode}): ${stderr.join('')} (config ${configPath})`)
    await new Promise((wake) => setTimeout(wake, 50))
  }

  const send = (method: string, path: string, options: { headers?: Record<string, string>; body?: Buffer } = {}): Promise<Reply> =>
    new Promise((done, fail) => {
      let answered = false
      const req = request({ host: '127.0.0.1', port: gatewayPort, method, path, headers: { accept: 'application/json', ...options.headers } }, (res) => {
        answered = true
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }))
        res.on('error', fail)
      })
      // nginx answers 413 before reading a large body and may close while it is still being written.
      req.on('error', (error) => { if (!answered) fail(error) })
      req.end(options.body)
    })
  const seenBy = async (method: string, path: string, options?: { headers?: Record<string, string>; body?: Buffer }): Promise<Seen | Reply> => {
    const reply = await send(method, path, options)
    return reply.status === 200 && reply.headers['content-type'] === 'application/json' ? (JSON.parse(reply.text) as Seen) : reply
  }
  const problem = (t: Test, reply: Reply, status: number, code: string): void => {
    t.equal(reply.status, status, `status ${status}`)
    t.match(reply.headers['content-type'], /^application\/problem\+json/, 'problem details')
    let body: Record<string, unknown> = {}
    try { body = JSON.parse(reply.text) as Record<string, unknown> } catch { t.fail(`not JSON: ${reply.text.slice(0, 200)}`) }
    t.match(body, { type: String, title: String, status, detail: String, code }, `code ${code}`)
  }
  const json = (size: number): Buffer => Buffer.from(JSON.stringify({ text: 'x'.repeat(size - 11) }))
  const multipart = (fileBytes: number): { body: Buffer; headers: Record<string, string> } => {
    const boundary = '----chat-test-boundary'
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="avatar"; filename="a.png"\r\ncontent-type: image/png\r\n\r\n`)
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
    return { body: Buffer.concat([head, Buffer.alloc(fileBytes, 1), tail]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
  }

  await t.test('api.md paths reach their service', async (t) => {
    const routes = apiRoutes(readFileSync(API_SPEC, 'utf8')).filter((route) => !route.template.startsWith('/ws'))
    for (const route of routes) {
      for (const path of samplePaths(route.template)) {
        const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : Buffer.from('{}')
        const seen = await seenBy(route.method, path, { body, headers: body ? { 'content-type': 'application/json' } : {} })
        t.match(seen, { service: route.service, method: route.method, url: path }, `${route.method} ${path} -> ${route.service}`)
      }
    }
  })

  await t.test('shared prefixes', async (t) => {
    t.match(await seenBy('POST', `/messages/${SAMPLE_ID}/reaction/`, { body: Buffer.from('{}') }), { service: 'reactions' }, '/messages/<id>/reaction/ -> reactions')
    t.match(await seenBy('DELETE', `/messages/${SAMPLE_ID}/reaction`), { service: 'reactions' }, '/messages/<id>/reaction -> reactions')
    t.match(await seenBy('GET', `/messages/${SAMPLE_ID}/`), { service: 'messages' }, '/messages/<id>/ -> messages')
    t.match(await seenBy('GET', `/messages/${SAMPLE_ID}`), { service: 'messages' }, '/messages/<id> -> messages')
    t.match(await seenBy('PATCH', `/messages/${SAMPLE_ID}/${SAMPLE_ID}/`, { body: Buffer.from('{}') }), { service: 'messages' }, '/messages/<room>/<message>/ -> messages')
    t.match(await seenBy('GET', '/emoji'), { service: 'reactions' }, '/emoji -> reactions')
    t.match(await seenBy('GET', '/chatrooms'), { service: 'rooms' }, '/chatrooms -> rooms')
    t.match(await seenBy('GET', '/users?search=a'), { service: 'identity', url: '/users?search=a' }, '/users?search= -> identity, query kept')
  })

  await t.test('forwarded headers', async (t) => {
    const spoofed = (await seenBy('GET', '/users/me', { headers: { 'x-forwarded-for': '6.6.6.6', 'x-request-id': 'client-chosen-id' } })) as Seen
    t.equal(spoofed.forwardedFor, '127.0.0.1', 'X-Forwarded-For is the peer address, never what the client sent')
    t.equal(spoofed.requestId, 'client-chosen-id', 'a sane X-Request-Id passes through')
    const generated = (await seenBy('GET', '/users/me')) as Seen
    t.match(generated.requestId, /^[0-9a-f]{32}$/, 'nginx makes a request id when there is none')
    const odd = (await seenBy('GET', '/users/me', { headers: { 'x-request-id': 'has spaces and {braces}' } })) as Seen
    t.match(odd.requestId, /^[0-9a-f]{32}$/, 'an odd one is replaced')
  })

  await t.test('body limits', async (t) => {
    t.match(await seenBy('POST', `/messages/${SAMPLE_ID}/`, { body: json(100 * 1024), headers: { 'content-type': 'application/json' } }), { service: 'messages', bytes: 100 * 1024 }, 'a 100 KiB JSON body reaches the service (which applies its own BODY_LIMIT_BYTES)')
    const big = await send('POST', `/messages/${SAMPLE_ID}/`, { body: json(2 * 1024 * 1024), headers: { 'content-type': 'application/json' } })
    problem(t, big, 413, 'payload_too_large')
    const avatar = multipart(5 * 1024 * 1024)
    t.match(await seenBy('PATCH', `/chatrooms/${SAMPLE_ID}/avatar/`, avatar), { service: 'rooms', bytes: avatar.body.length }, 'a 5 MiB avatar reaches rooms')
    const hugeAvatar = multipart(6 * 1024 * 1024)
    problem(t, await send('PATCH', `/chatrooms/${SAMPLE_ID}/avatar/`, hugeAvatar), 413, 'payload_too_large')
    problem(t, await send('PATCH', `/chatrooms/${SAMPLE_ID}/avatar`, hugeAvatar), 413, 'payload_too_large')
    problem(t, await send('POST', '/chatrooms/', { body: json(2 * 1024 * 1024) }), 413, 'payload_too_large')
  })

  await t.test('the web app and unknown paths', async (t) => {
    const index = await send('GET', '/', { headers: { accept: 'text/html' } })
    t.equal(index.status, 200, '/ serves index.html')
    t.match(index.text, /<title>chat<\/title>/)
    const route = await send('GET', '/rooms/some-room', { headers: { accept: 'text/html,application/xhtml+xml' } })
    t.equal(route.status, 200, 'a browser navigation to a client-side route gets index.html')
    problem(t, await send('GET', '/no/such/path'), 404, 'not_found')
    problem(t, await send('GET', '/chatroomsx'), 404, 'not_found')
    rmSync(webRoot, { recursive: true })
    problem(t, await send('GET', '/', { headers: { accept: 'text/html' } }), 404, 'not_found')
    const health = await send('GET', '/healthz')
    t.equal(health.status, 200, 'the gateway answers its own /healthz')
  })

  await t.test('WebSocket upgrade through /ws/', async (t) => {
    const open = (path: string): Promise<{ socket: WebSocket; seen: Seen }> =>
      new Promise((done, fail) => {
        const socket = new WebSocket(`ws://127.0.0.1:${gatewayPort}${path}`, { headers: { 'x-forwarded-for': '6.6.6.6' } })
        socket.once('message', (data: Buffer) => done({ socket, seen: JSON.parse(data.toString()) as Seen }))
        socket.once('error', fail)
      })
    const first = await open(`/ws/chat/${SAMPLE_ID}/`)
    const second = await open('/ws')
    t.teardown(() => { first.socket.close(); second.socket.close() })
    t.match(first.seen, { service: /^realtime-[12]$/, url: `/ws/chat/${SAMPLE_ID}/`, upgrade: 'websocket', forwardedFor: '127.0.0.1' }, '/ws/chat/<id>/ upgrades at a realtime replica')
    t.match(second.seen, { service: /^realtime-[12]$/, url: '/ws' }, '/ws upgrades too')
    t.not(first.seen.service, second.seen.service, 'two open sockets land on different replicas (least_conn)')
    const echoed = new Promise<string>((done) => first.socket.once('message', (data: Buffer) => done(data.toString())))
    first.socket.send('{"type":"ping","ref":"1"}')
    t.equal(await echoed, '{"type":"ping","ref":"1"}', 'frames flow both ways')
    const withToken = await open(`/ws/?after=1&token=secret.jwt.value&x=2`)
    withToken.socket.close()
    t.match(withToken.seen, { url: '/ws/?after=1&token=secret.jwt.value&x=2' }, 'the upstream gets the token')
    const deadline = Date.now() + 5_000
    let log = ''
    while (!log.includes('token=[redacted]') && Date.now() < deadline) {
      await new Promise((wake) => setTimeout(wake, 50))
      log = readFileSync(join(work, 'nginx', 'access.log'), 'utf8')
    }
    t.notMatch(log, /secret\.jwt\.value/, 'the access log never holds a token from the query')
    t.match(log, '"uri":"/ws/?after=1&token=[redacted]&x=2"', 'the rest of the query is logged')
  })

  await t.test('malformed paths are problem details too', async (t) => {
    for (const path of ['/chatrooms/%00/', '/messages/..%2F..%2Fetc/', '/../../etc/passwd']) {
      problem(t, await send('GET', path), 400, 'bad_request')
    }
  })

  await t.test('/readyz and /docs/json of the gateway speak for every service', async (t) => {
    const ready = await send('GET', '/readyz')
    t.equal(ready.status, 200, 'ready while every group answers its /readyz')
    t.same(JSON.parse(ready.text), { status: 'ready', checks: { identity: 'ok', rooms: 'ok', messages: 'ok', reactions: 'ok', realtime: 'ok' } })
    const docs = await send('GET', '/docs/json')
    t.equal(docs.status, 200)
    const document = JSON.parse(docs.text) as { paths: Record<string, Record<string, { operationId: string }>>; tags: Array<{ name: string }> }
    for (const service of ['identity', 'rooms', 'messages', 'reactions']) {
      t.equal(document.paths[`/${service}/thing`]?.get?.operationId, `get_${service}`, `${service}'s paths are in the one document`)
    }
    t.ok(document.paths['/realtime-1/thing'] ?? document.paths['/realtime-2/thing'], "a realtime replica's paths too")
    t.match(document.paths['/readyz'], { get: { operationId: 'readyz' } }, "the gateway's /readyz is described, not a service's")
    t.equal(document.tags.length, 5, 'each tag once')
    const ui = await seenBy('GET', '/docs/static/index.html')
    t.match(ui, { service: 'identity', url: '/docs/static/index.html' }, "the UI's files come from one service")
  })

  await t.test('an upstream that is down is a 502 problem', async (t) => {
    servers.reactions.server.closeAllConnections()
    await new Promise((done) => servers.reactions.server.close(done))
    problem(t, await send('GET', '/emoji/'), 502, 'bad_gateway')
    const reply = await send('GET', '/emoji/')
    t.equal(reply.headers['retry-after'], '5', 'with Retry-After')
    const ready = await send('GET', '/readyz')
    problem(t, ready, 503, 'not_ready')
    t.match(JSON.parse(ready.text), { detail: 'Unavailable: reactions', checks: { identity: 'ok', reactions: 'down' } }, "the gateway's /readyz names the service that is down")
    problem(t, await send('GET', '/docs/json'), 503, 'service_unavailable')
  })
}
