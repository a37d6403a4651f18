import type { Kysely } from 'kysely'
import type { LightMyRequestResponse } from 'fastify'
import { createInProcessBus, type EventBus } from '@chat/bus'
import type { Message } from '@chat/contracts'
import type { Database } from '@chat/db'
import { createTestDatabase, type TeardownHost } from '@chat/db/testing'
import { createRoomEventPublisher, type RoomEventPublisher } from '@chat/room-events'
import type { ServiceApp, TokenSigner } from '@chat/service-kit'
import { bearer, createTestAuth, createTestRoom, createTestUser, receivedEvent, silentLogger, type ReceivedEvent, type TestUser } from '@chat/service-kit/testing'
export { bearer, isoMs, publicUser, receivedEvent, settle, silentLogger, waitFor, type ReceivedEvent } from '@chat/service-kit/testing'
import { buildApp, type MessagesAppOptions } from '../src/app.js'

export type { TestUser }

export type TestContext = TeardownHost


export interface Harness {
  app: ServiceApp
  db: Kysely<Database>
  bus: EventBus
  signer: TokenSigner
  publisher: RoomEventPublisher
  /** Every room event published on the bus, in arrival order. */
  events: ReceivedEvent[]
  createUser: (displayName?: string) => Promise<TestUser>
  /** A room created by `owner` with `members` as participants. */
  createRoom: (owner: TestUser, members?: TestUser[], name?: string) => Promise<string>
  send: (user: TestUser, roomId: string, body: Record<string, unknown>) => Promise<LightMyRequestResponse>
}

export interface BuildOptions extends MessagesAppOptions {
  /** The bus the app publishes on and serves send requests from; in-process by default. */
  bus?: EventBus
  /** The bus events are collected from (when `bus` wraps another). */
  observeBus?: EventBus
  /** The PostgreSQL server of the test's database (default DATABASE_URL's). */
  databaseServerUrl?: string
}

/** The messages app on its own fresh database and an in-process bus, closed when the test ends. */
export async function build(t: TestContext, options: BuildOptions = {}): Promise<Harness> {
  const { databaseServerUrl, ...appOptions } = options
  const { db } = await createTestDatabase(t, { serverUrl: databaseServerUrl })
  const ownBus = createInProcessBus()
  const bus = options.bus ?? ownBus
  const { signer, verifier } = createTestAuth()
  const events: ReceivedEvent[] = []
  await (options.observeBus ?? bus).subscribe('chat.room.>', (message) => { events.push(receivedEvent(message)) })
  const publisher = createRoomEventPublisher({ db, bus, logger: silentLogger, flushMs: 10 })
  const app = await buildApp({ db, bus, verifier, publisher }, { logger: false, userRps: 0, ...appOptions })
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

export type { Message }
