import type { Kysely } from 'kysely'
import type { LightMyRequestResponse } from 'fastify'
import { createInProcessBus, type BusMessage, type EventBus } from '@chat/bus'
import { envelopeHeaders, type Message, type RoomEventFrame, type User } from '@chat/contracts'
import type { Database } from '@chat/db'
import { createTestDatabase } from '@chat/db/testing'
import { createRoomEventPublisher, type RoomEventPublisher } from '@chat/room-events'
import {
  createTokenSigner,
  createTokenVerifier,
  generateSigningKey,
  staticKeyResolver,
  type ServiceApp,
  type TokenSigner
} from '@chat/service-kit'
import { createTestRoom, createTestUser, type TestUser } from '@chat/service-kit/testing'
import { buildApp, type MessagesAppOptions } from '../src/app.js'

export type { TestUser }

export interface TestContext {
  teardown(fn: () => unknown): void
}

export const silentLogger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} }

/** An event as it arrived on the bus. */
export interface ReceivedEvent {
  subject: string
  seqHeader: string | undefined
  frame: RoomEventFrame
}

export interface Harness {
  app: ServiceApp
  db: Kysely<Database>
  bus: EventBus
  signer: TokenSigner
  publisher: RoomEventPublisher
  /** Every room event published on the bus, in arrival order. */
  events: ReceivedEvent[]
  createUser(displayName?: string): Promise<TestUser>
  /** A room created by `owner` with `members` as participants. */
  createRoom(owner: TestUser, members?: TestUser[], name?: string): Promise<string>
  send(user: TestUser, roomId: string, body: Record<string, unknown>): Promise<LightMyRequestResponse>
}

export interface BuildOptions extends MessagesAppOptions {
  /** The bus the app publishes on and serves send requests from; in-process by default. */
  bus?: EventBus
  /** The bus events are collected from (when `bus` wraps another). */
  observeBus?: EventBus
}

/** The messages app on its own fresh database and an in-process bus, closed when the test ends. */
export async function build(t: TestContext, options: BuildOptions = {}): Promise<Harness> {
  const { db } = await createTestDatabase(t)
  const ownBus = createInProcessBus()
  const bus = options.bus ?? ownBus
  const signer = createTokenSigner(generateSigningKey(), 900)
  const events: ReceivedEvent[] = []
  await (options.observeBus ?? bus).subscribe('chat.room.>', (message: BusMessage) => {
    events.push({
      subject: message.subject,
      seqHeader: message.header(envelopeHeaders.seq),
      frame: JSON.parse(Buffer.from(message.data).toString('utf8')) as RoomEventFrame
    })
  })
  const publisher = createRoomEventPublisher({ db, bus, logger: silentLogger, flushMs: 10 })
  const verifier = createTokenVerifier(staticKeyResolver([signer.key]))
  const app = await buildApp({ db, bus, verifier, publisher }, { logger: false, userRps: 0, ...options })
  t.teardown(async () => {
    await app.close()
    await publisher.close()
    await ownBus.close()
  })
  await app.ready()
  return {
    app,
    db,
    bus,
    signer,
    publisher,
    events,
    createUser: (displayName) => createTestUser(db, signer, displayName),
    createRoom: (owner, members = [], name = 'room') => createTestRoom(db, owner, members, name),
    send: (user, roomId, body) => app.inject({ method: 'POST', url: `/messages/${roomId}/`, headers: bearer(user), payload: body })
  }
}

export function bearer(user: { token: string } | string): { authorization: string } {
  return { authorization: `Bearer ${typeof user === 'string' ? user : user.token}` }
}

/** The public User of a test user (no token). */
export function publicUser(user: TestUser): User {
  return { id: user.id, display_name: user.display_name, created_at: user.created_at }
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Lets the in-process bus deliver what was published so far. */
export function settle(ms = 50): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export const isoMs = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

export type { Message }
