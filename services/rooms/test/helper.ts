import type { Kysely, KyselyPlugin } from 'kysely'
import { createInProcessBus, type BusMessage, type EventBus } from '@chat/bus'
import type { Room } from '@chat/contracts'
import type { Database } from '@chat/db'
import { createTestDatabase, type TeardownHost } from '@chat/db/testing'
import type { ServiceApp } from '@chat/service-kit'
import { bearer, createTestAuth, createTestUser, type TestUser as SignedTestUser } from '@chat/service-kit/testing'
export { waitFor } from '@chat/service-kit/testing'
import { buildApp, type RoomsAppOptions } from '../src/app.js'

export type TestContext = TeardownHost

/** A test user with the Authorization header of its token, ready for `app.inject`. */
export interface TestUser extends SignedTestUser {
  headers: { authorization: string }
}

export interface Harness {
  app: ServiceApp
  db: Kysely<Database>
  bus: EventBus
  /** Every frame published on chat.room.>, parsed, in arrival order. */
  events: Array<Record<string, unknown> & { type: string; room_id: string; seq: number }>
  raw: BusMessage[]
  /** SELECT statements the app has run so far. */
  queries: { count: number }
  user: (displayName: string) => Promise<TestUser>
  createRoom: (owner: TestUser, name: string, others?: string[]) => Promise<Room>
}

/** The rooms app on its own PostgreSQL database and an in-process bus. */
export async function build(t: TestContext, options: RoomsAppOptions & { bus?: EventBus } = {}): Promise<Harness> {
  const { db: database } = await createTestDatabase(t)
  const queries = { count: 0 }
  const counter: KyselyPlugin = {
    transformQuery: (args) => {
      // Reads only: the publisher's batched outbox deletes run on their own clock.
      if (args.node.kind === 'SelectQueryNode') queries.count += 1
      return args.node
    },
    transformResult: async (args) => args.result
  }
  const db = database.withPlugin(counter)
  const bus = options.bus ?? createInProcessBus()
  const { signer, verifier } = createTestAuth()
  const app = await buildApp({ db, bus, verifier }, { logger: false, userRps: 0, ...options })
  t.teardown(async () => {
    await app.close()
    await bus.close()
  })
  const events: Harness['events'] = []
  const raw: BusMessage[] = []
  await bus.subscribe('chat.room.>', (message) => {
    raw.push(message)
    events.push(JSON.parse(Buffer.from(message.data).toString('utf8')))
  })
  await app.ready()
  return {
    app,
    db,
    bus,
    events,
    raw,
    queries,
    async user(displayName) {
      const user = await createTestUser(db, signer, displayName)
      return { ...user, headers: bearer(user) }
    },
    async createRoom(owner, name, others = []) {
      const response = await app.inject({ method: 'POST', url: '/chatrooms/', headers: owner.headers, payload: { name, participants_display_names: others } })
      if (response.statusCode !== 201) throw new Error(`create room: ${response.statusCode} ${response.body}`)
      return response.json<Room>()
    }
  }
}

export const unknownRoomId = '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f'
