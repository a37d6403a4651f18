import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { crc32, deflateSync } from 'node:zlib'
import type { Kysely } from 'kysely'
import { connectNatsBus, MSG_ID_HEADER, type BusMessage, type EventBus, type NatsBus, type NatsBusOptions } from '@chat/bus'
import { displayNameKey, envelopeHeaders, toUser, type RoomEventFrame, type User } from '@chat/contracts'
import type { Database } from '@chat/db'
import { createTestDatabase, requireInfra, type TeardownHost } from '@chat/db/testing'
import type { Registry } from 'prom-client'
import { generateSigningKey } from './keys.js'
export { renderSpanTree, startOtlpReceiver, type ReceivedSpan } from './otlp-receiver.js'
import { createTokenSigner, createTokenVerifier, staticKeyResolver, type TokenSigner, type TokenVerifier } from './tokens.js'

export interface RunningService {
  child: ChildProcess
  baseUrl: string
  exited: Promise<number | null>
  output(): string
}

/**
 * Starts a built service entry point (`dist/main.js`) with `env` and PORT=0,
 * and resolves once it logs the address it listens on. For tests of the
 * processes as operators run them.
 */
export async function startServiceProcess(mainFile: string, env: Record<string, string>, timeoutMs = 60_000): Promise<RunningService> {
  const child = spawn(process.execPath, [mainFile], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/i.exec(output)
    if (match?.[1]) return { child, baseUrl: match[1], exited, output: () => output }
    if (child.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  child.kill('SIGKILL')
  throw new Error(`${mainFile} did not start:\n${output}`)
}

/**
 * Starts a built entry point on the test's own PostgreSQL database (`env`
 * gets its URL) and kills it when the test ends; `db` reads what it wrote.
 * Undefined, with the test skipped, when the tests run on PGlite, which a
 * second process cannot open.
 */
export async function startServiceOnTestDatabase(
  t: TeardownHost & { skip(name: string, fn: () => void): unknown },
  mainFile: string,
  env: (databaseUrl: string) => Record<string, string>
): Promise<{ service: RunningService; db: Kysely<Database> } | undefined> {
  const { url, kind, db } = await createTestDatabase(t)
  if (kind !== 'postgres') {
    t.skip('main.ts needs PostgreSQL', () => {})
    return undefined
  }
  const service = await startServiceProcess(mainFile, env(url))
  t.teardown(() => { service.child.kill('SIGKILL') })
  return { service, db }
}

/** A JSON POST with a bearer token to a running service, as a client sends it. */
export function postJson(url: string, token: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

/** The assertions of a tap test that {@link checkStopAfterWrite} makes. */
export interface TestAsserts {
  equal(found: unknown, wanted: unknown, ...message: [] | [string]): unknown
  same(found: unknown, wanted: unknown, ...message: [] | [string]): unknown
  ok(value: unknown, ...message: [] | [string]): unknown
  notMatch(found: unknown, pattern: RegExp, ...message: [] | [string]): unknown
}

/**
 * SIGTERM at once after a write, and what every writing service's process
 * promises then: it exits 0; the room's events are the `wanted` [seq, type]
 * pairs and each is marked published (the publisher's last batch of marks
 * reached the database before the pool closed); no key or token is in its logs.
 */
export async function checkStopAfterWrite(
  t: TestAsserts,
  running: { service: RunningService; db: Kysely<Database> },
  roomId: string,
  wanted: Array<[seq: number, type: string]>
): Promise<void> {
  running.service.child.kill('SIGTERM')
  t.equal(await running.service.exited, 0)
  const events = await running.db.selectFrom('room_events').select(['seq', 'type']).where('room_id', '=', roomId).execute()
  t.same(events.map((event) => [event.seq, event.type]), wanted)
  const outbox = await running.db.selectFrom('room_events_outbox').select('seq').where('room_id', '=', roomId).execute()
  t.same(outbox, [], 'marked published (out of the outbox) before the pool closed')
  t.notMatch(running.service.output(), /BEGIN PUBLIC KEY|Bearer ey/, 'no key or token in the logs')
}

/** Runs an entry point expected to exit at once; resolves to its exit code and standard error. */
export async function runToExit(mainFile: string, env: Record<string, string | undefined>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [mainFile], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, stderr }
}

/** A user made directly in the database, with a valid access token: the fixture of the services' tests. */
export interface TestUser extends User {
  token: string
}

/** Inserts a user (no password: tests authenticate with the token) and signs an access token for it. */
export async function createTestUser(db: Kysely<Database>, signer: TokenSigner, displayName = `user-${randomUUID().slice(0, 8)}`): Promise<TestUser> {
  const row = await db
    .insertInto('users')
    .values({ display_name: displayName, display_name_key: displayNameKey(displayName), password_hash: 'not-a-hash' })
    .returning(['id', 'display_name', 'created_at'])
    .executeTakeFirstOrThrow()
  return { ...toUser(row), token: signer.sign({ id: row.id, displayName: row.display_name }).token }
}

/** Inserts a room with `owner` as its owner and `members` as members (no events: seq stays 0); its id. */
export async function createTestRoom(db: Kysely<Database>, owner: User, members: User[] = [], name = 'room'): Promise<string> {
  const room = await db.insertInto('rooms').values({ name, created_by: owner.id }).returning('id').executeTakeFirstOrThrow()
  await db
    .insertInto('room_participants')
    .values([
      { room_id: room.id, user_id: owner.id, role: 'owner' as const },
      ...members.map((member) => ({ room_id: room.id, user_id: member.id, role: 'member' as const }))
    ])
    .execute()
  return room.id
}

/** The Authorization header of a test user (or of a raw token). */
export function bearer(user: { token: string } | string): { authorization: string } {
  return { authorization: `Bearer ${typeof user === 'string' ? user : user.token}` }
}

/** The public User of a test user (no token). */
export function publicUser(user: TestUser): User {
  return { id: user.id, display_name: user.display_name, created_at: user.created_at }
}

/** Polls `condition` every 10 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Lets a bus deliver what was published so far. */
export function settle(ms = 50): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** ISO 8601 UTC with milliseconds, as api.md writes timestamps. */
export const isoMs = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

/** A logger for the event machinery in tests: says nothing. */
export const silentLogger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} }

/** A fresh signing key, its signer (tokens live 900 s) and a verifier that trusts it: what a service's tests authenticate with. */
export function createTestAuth(): { signer: TokenSigner; verifier: TokenVerifier } {
  const signer = createTokenSigner(generateSigningKey(), 900)
  return { signer, verifier: createTokenVerifier(staticKeyResolver([signer.key])) }
}

/** A room event as it arrived on a bus: subject, envelope headers and the parsed frame. */
export interface ReceivedEvent {
  subject: string
  seqHeader: string | undefined
  msgIdHeader: string | undefined
  frame: RoomEventFrame
}

export function receivedEvent(message: BusMessage): ReceivedEvent {
  return {
    subject: message.subject,
    seqHeader: message.header(envelopeHeaders.seq),
    msgIdHeader: message.header(MSG_ID_HEADER),
    frame: JSON.parse(Buffer.from(message.data).toString('utf8')) as RoomEventFrame
  }
}

/** A bus whose publish, ping and flush reject while `down` is true: a bus outage, for the outbox and relay tests. */
export function flakyBus(inner: EventBus, down = false): EventBus & { down: boolean } {
  const bus = Object.create(inner) as EventBus & { down: boolean }
  bus.down = down
  bus.publish = (subject, data, options) => (bus.down ? Promise.reject(new Error('bus down')) : inner.publish(subject, data, options))
  bus.ping = () => (bus.down ? Promise.reject(new Error('bus down')) : inner.ping())
  bus.flush = () => (bus.down ? Promise.reject(new Error('bus down')) : inner.flush())
  return bus
}

/**
 * A connection to nats-server (NATS_URL, else the local default) for a test
 * file that needs one. When the server is not reachable the file plans no
 * test and is skipped (undefined), unless REQUIRE_INFRA=1 makes that a failure.
 */
export async function natsBusOrSkip(t: { plan(count: number, comment?: string): void }, options: Omit<NatsBusOptions, 'url'>): Promise<NatsBus | undefined> {
  const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
  try {
    return await connectNatsBus({ url, ...options })
  } catch (error) {
    if (requireInfra()) throw error
    t.plan(0, `NATS not reachable at ${url}; skipped (set REQUIRE_INFRA=1 to fail instead)`)
    return undefined
  }
}

/** A multipart/form-data body with one file part, and its Content-Type header. */
export function multipartFile(field: string, filename: string, contentType: string, bytes: Buffer): { payload: Buffer; headers: { 'content-type': string } } {
  const boundary = `----chat${randomUUID().replaceAll('-', '')}`
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`)
  ])
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

/**
 * A PNG written by hand: its header declares `width` x `height` 8-bit RGB
 * pixels and its data is `scanlines` (each row a filter byte, then the
 * pixels), deflated. Scanlines that do not fit the header make a file that
 * only declares its size, as a decompression bomb does.
 */
export function pngFile(width: number, height: number, scanlines: Buffer): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(scanlines)),
    pngChunk('IEND', Buffer.alloc(0))
  ])
}

/** The scanlines of a `width` x `height` RGB image whose pixels `rgbAt` gives. */
export function pngScanlines(width: number, height: number, rgbAt: (x: number, y: number) => readonly [number, number, number]): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height)
  for (let y = 0; y < height; y++) {
    const start = y * (width * 3 + 1) // filter byte 0
    for (let x = 0; x < width; x++) rows.set(rgbAt(x, y), start + 1 + x * 3)
  }
  return rows
}

/**
 * The value of a metric as a scrape sees it (collect() runs): the sample with
 * exactly these labels (a histogram's `_count` when `sample` says so); 0 when
 * it has no such sample yet.
 */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}, sample = name): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${name} in the registry`)
  const { values } = await metric.get()
  const wanted = Object.entries(labels)
  const found = values.find((value) => ((value as { metricName?: string }).metricName ?? name) === sample && wanted.every(([key, label]) => String(value.labels[key]) === label))
  return found?.value ?? 0
}
