import type { Kysely } from 'kysely'
import type { LightMyRequestResponse } from 'fastify'
import { createInProcessBus, type EventBus } from '@chat/bus'
import type { ReactionCounts, RoomEventFrame } from '@chat/contracts'
import type { Database } from '@chat/db'
import { createTestDatabase, type TeardownHost } from '@chat/db/testing'
import { appendRoomEvent, createRoomEventPublisher, uuidv7, type RoomEventPublisher } from '@chat/room-events'
import type { ServiceApp, TokenSigner } from '@chat/service-kit'
import { bearer, createTestAuth, createTestRoom, createTestUser, publicUser, receivedEvent, silentLogger, type ReceivedEvent, type TestUser } from '@chat/service-kit/testing'
export { bearer, isoMs, publicUser, receivedEvent, settle, silentLogger, waitFor, type ReceivedEvent } from '@chat/service-kit/testing'
import { buildApp, type ReactionsAppOptions } from '../src/app.js'

export type { TestUser }

export type TestContext = TeardownHost


export type ReactionUpdated = Extract<RoomEventFrame, { type: 'reaction.updated' }>

export interface Harness {
  app: ServiceApp
  db: Kysely<Database>
  bus: EventBus
  signer: TokenSigner
  publisher: RoomEventPublisher
  /** Every room event published on the bus, in arrival order. */
  events: ReceivedEvent[]
  /** The `reaction.updated` frames of one room, in arrival order. */
  reactionEvents: (roomId: string) => ReactionUpdated[]
  createUser: (displayName?: string) => Promise<TestUser>
  /** A room created by `owner` with `members` as participants. */
  createRoom: (owner: TestUser, members?: TestUser[], name?: string) => Promise<string>
  /** A message stored as the messages service stores it: the room's next seq and its `message.created` event. */
  createMessage: (sender: TestUser, roomId: string, text?: string) => Promise<string>
  /** Marks a message deleted as the messages service does: the room's next seq and its `message.deleted` event. */
  deleteMessage: (messageId: string) => Promise<void>
  react: (user: TestUser | undefined, messageId: string, body: unknown, options?: { slash?: boolean }) => Promise<LightMyRequestResponse>
  unreact: (user: TestUser | undefined, messageId: string, options?: { slash?: boolean }) => Promise<LightMyRequestResponse>
  reactions: (user: TestUser | undefined, messageId: string, options?: { slash?: boolean }) => Promise<LightMyRequestResponse>
  /** The stored reactions of a message as `{user_id: reaction}`. */
  storedReactions: (messageId: string) => Promise<Record<string, string>>
  lastSeq: (roomId: string) => Promise<number>
}

export interface BuildOptions extends ReactionsAppOptions {
  /** The bus the app publishes on; in-process by default. */
  bus?: EventBus
  /** The bus events are collected from (when `bus` wraps another). */
  observeBus?: EventBus
  /** Pattern events are collected from; every room by default, none with `false`. */
  observe?: string | false
}

/** The reactions app on its own fresh database and an in-process bus, closed when the test ends. */
export async function build(t: TestContext, options: BuildOptions = {}): Promise<Harness> {
  const { bus: givenBus, observeBus, observe, ...appOptions } = options
  const { db } = await createTestDatabase(t)
  const ownBus = createInProcessBus()
  const bus = givenBus ?? ownBus
  const { signer, verifier } = createTestAuth()
  const events: ReceivedEvent[] = []
  const subscription =
    observe === false
      ? undefined
      : await (observeBus ?? bus).subscribe(observe ?? 'chat.room.>', (message) => { events.push(receivedEvent(message)) })
  const publisher = createRoomEventPublisher({ db, bus, logger: silentLogger, flushMs: 10 })
  const app = await buildApp({ db, bus, verifier, publisher }, { logger: false, userRps: 0, ...appOptions })
  t.teardown(async () => {
    await app.close()
    await publisher.close()
    await subscription?.unsubscribe()
    await ownBus.close()
  })
  await app.ready()
  const url = (messageId: string, slash = true) => `/messages/${messageId}/reaction${slash ? '/' : ''}`
  const headers = (user: TestUser | undefined) => (user ? bearer(user) : {})
  return {
    app,
    db,
    bus,
    signer,
    publisher,
    events,
    reactionEvents: (roomId) =>
      events
        .map((event) => event.frame)
        .filter((frame): frame is ReactionUpdated => frame.type === 'reaction.updated' && frame.room_id === roomId),
    createUser: (displayName) => createTestUser(db, signer, displayName),
    createRoom: (owner, members = [], name = 'room') => createTestRoom(db, owner, members, name),
    createMessage: (sender, roomId, text = 'hello') => createMessage(db, sender, roomId, text),
    deleteMessage: (messageId) => deleteMessage(db, messageId),
    react: (user, messageId, body, options = {}) =>
      app.inject({ method: 'POST', url: url(messageId, options.slash), headers: headers(user), payload: body as object }),
    unreact: (user, messageId, options = {}) => app.inject({ method: 'DELETE', url: url(messageId, options.slash), headers: headers(user) }),
    reactions: (user, messageId, options = {}) => app.inject({ method: 'GET', url: url(messageId, options.slash), headers: headers(user) }),
    storedReactions: async (messageId) => {
      const rows = await db.selectFrom('reactions').select(['user_id', 'reaction']).where('message_id', '=', messageId).execute()
      return Object.fromEntries(rows.map((row) => [row.user_id, row.reaction]))
    },
    lastSeq: async (roomId) => (await db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow()).last_seq
  }
}

export async function createMessage(db: Kysely<Database>, sender: TestUser, roomId: string, text: string): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const createdAt = new Date()
    const id = uuidv7(createdAt.getTime())
    await appendRoomEvent(trx, roomId, 'message.created', async (seq) => {
      await trx.insertInto('messages').values({ id, room_id: roomId, seq, sender_id: sender.id, text, created_at: createdAt }).execute()
      return {
        message: {
          id,
          room_id: roomId,
          seq,
          sender: publicUser(sender),
          text,
          client_msg_id: null,
          created_at: createdAt.toISOString(),
          edited_at: null,
          deleted: false,
          reactions: {},
          my_reaction: null,
          reply_to: null,
          reply_count: 0,
          last_reply_at: null,
          mentions: []
        }
      }
    })
    return id
  })
}

export async function deleteMessage(db: Kysely<Database>, messageId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const message = await trx
      .updateTable('messages')
      .set({ text: '', deleted_at: new Date() })
      .where('id', '=', messageId)
      .returning('room_id')
      .executeTakeFirstOrThrow()
    await appendRoomEvent(trx, message.room_id, 'message.deleted', { message_id: messageId })
  })
}

/** The room's event log: `[seq, type]` in seq order. */
export async function roomEventLog(db: Kysely<Database>, roomId: string): Promise<Array<{ seq: number; type: string; payload: unknown }>> {
  return db.selectFrom('room_events').select(['seq', 'type', 'payload']).where('room_id', '=', roomId).orderBy('seq').execute()
}

/** Reaction name to count, from the table. */
export async function countsInTable(db: Kysely<Database>, messageId: string): Promise<ReactionCounts> {
  const rows = await db.selectFrom('reactions').select('reaction').where('message_id', '=', messageId).execute()
  const counts: ReactionCounts = {}
  for (const row of rows) counts[row.reaction] = (counts[row.reaction] ?? 0) + 1
  return counts
}

export const allowedNames = ['like', 'love', 'laugh', 'wow', 'sad', 'angry']
