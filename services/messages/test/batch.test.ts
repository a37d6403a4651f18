// The group commit of sends (send-batcher.ts, chat_send_messages): one batch
// answers each of its sends on its own, a send that breaks the statement
// fails alone, and a process killed in the middle of batches loses no
// acknowledged message and publishes every committed one (the relay).
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { connect } from '@nats-io/transport-node'
import { findNatsServer, startNatsServer } from '@chat/process-kit'
import { createTokenSigner, generateSigningKey } from '@chat/service-kit'
import { startServiceOnTestDatabase, startServiceProcess, waitFor } from '@chat/service-kit/testing'
import { runSendBatch, type SendBatchItem } from '../src/messages.repository.js'
import { SendBatcher, type SendAnswer } from '../src/send-batcher.js'
import { build } from './helper.js'

const settled = <T>(promise: Promise<T>): Promise<{ value?: T; error?: { statusCode?: number; code?: string; message: string } }> =>
  promise.then((value) => ({ value }), (error: { statusCode?: number; code?: string; message: string }) => ({ error }))

t.test('one batch: refused sends are answered each on its own, the others are committed', async (t) => {
  const h = await build(t)
  const ada = await h.createUser('Ada')
  const eve = await h.createUser('Eve')
  const roomId = await h.createRoom(ada)
  const batches: number[] = []
  const batcher = new SendBatcher({
    run: (items: readonly SendBatchItem[]) => {
      batches.push(items.length)
      return runSendBatch(h.db, items)
    },
    publisher: h.publisher,
    notifyMentions: () => undefined,
    maxTextChars: 10,
    logger: { error: () => {} }
  })
  const send = (senderId: string, room: string, text: string, clientMsgId?: string): Promise<SendAnswer> => batcher.submit({ roomId: room, senderId, text, clientMsgId })
  // Submitted in one turn of the event loop: one batch.
  const answers = await Promise.all([
    settled(send(ada.id, roomId, 'first', 'a-1')),
    settled(send(eve.id, roomId, 'outsider')),
    settled(send(ada.id, randomUUID(), 'no room')),
    settled(send(ada.id, roomId, '   ')),
    settled(send(ada.id, roomId, 'far too long a text')),
    settled(send(ada.id, roomId, 'nul \u0000 here')),
    settled(send(ada.id, roomId, 'lone \ud800')),
    settled(send(ada.id, roomId, 'again', 'a-1')),
    settled(send(ada.id, roomId, 'second'))
  ])
  t.same(batches, [9], 'every send went in one batch')
  t.match(answers[0], { value: { kind: 'created', message: { seq: 1, text: 'first', client_msg_id: 'a-1', sender: { id: ada.id } } } })
  t.match(answers[1], { error: { statusCode: 403, code: 'not_a_member' } })
  t.match(answers[2], { error: { statusCode: 404, code: 'room_not_found' } })
  t.match(answers[3], { error: { statusCode: 400, code: 'validation_failed' } })
  t.match(answers[4], { error: { statusCode: 400, code: 'validation_failed' } })
  t.match(answers[5], { error: { statusCode: 400, code: 'invalid_characters' } })
  t.match(answers[6], { error: { statusCode: 400, code: 'invalid_characters' } })
  t.match(answers[7], { value: { kind: 'repeat', clientMsgId: 'a-1' } }, 'a repeat within the batch refers to the first')
  t.match(answers[8], { value: { kind: 'created', message: { seq: 2, text: 'second' } } })
  const stored = await h.db.selectFrom('messages').select(['seq', 'text']).where('room_id', '=', roomId).orderBy('seq').execute()
  t.same(stored.map((row) => [Number(row.seq), row.text]), [[1, 'first'], [2, 'second']], 'exactly the two accepted messages are stored')
  const room = await h.db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow()
  t.equal(Number(room.last_seq), 2, 'the room took two seqs')
  const events = await h.db.selectFrom('room_events').select(['seq', 'type']).where('room_id', '=', roomId).orderBy('seq').execute()
  t.same(events.map((event) => [Number(event.seq), event.type]), [[1, 'message.created'], [2, 'message.created']], 'one event per message, in the same commit')
})

t.test('a send that breaks the whole statement fails alone: the others are retried one by one', async (t) => {
  const h = await build(t)
  const ada = await h.createUser('Ada')
  const roomId = await h.createRoom(ada)
  const batches: number[] = []
  const batcher = new SendBatcher({
    run: (items: readonly SendBatchItem[]) => {
      batches.push(items.length)
      if (items.some((item) => item.text === 'poison')) return Promise.reject(new Error('the statement failed'))
      return runSendBatch(h.db, items)
    },
    publisher: h.publisher,
    notifyMentions: () => undefined,
    maxTextChars: 100,
    logger: { error: () => {} }
  })
  const answers = await Promise.all(['one', 'poison', 'two'].map((text) => settled(batcher.submit({ roomId, senderId: ada.id, text }))))
  t.same(batches.sort(), [1, 1, 1, 3], 'one batch of three, then each alone')
  t.match(answers[0], { value: { kind: 'created' } })
  t.match(answers[1], { error: { message: 'the statement failed' } })
  t.match(answers[2], { value: { kind: 'created' } })
  const seqs = answers.flatMap((answer) => (answer.value?.kind === 'created' ? [answer.value.message.seq] : [])).sort()
  t.same(seqs, [1, 2], 'the two others took the room\'s next seqs')
})

t.test('one batch in the database at a time unless told more: what arrives meanwhile waits and goes together', async (t) => {
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
  for (const [maxInFlight, expected] of [
    [undefined, [[1], [1], [1, 2]]],
    [2, [[1], [1, 1], [1, 1, 1]]]
  ] as const) {
    const started: number[] = []
    const pending: Array<() => void> = []
    const batcher = new SendBatcher({
      // Held until released: each send is answered as having no room (nothing to publish).
      run: (items: readonly SendBatchItem[]) => {
        started.push(items.length)
        return new Promise((resolve) => pending.push(() => resolve(items.map((item) => ({ ord: item.ord, status: 'no_room' as const })))))
      },
      publisher: { publish: async () => {}, flush: async () => {}, close: async () => {} },
      notifyMentions: () => undefined,
      maxTextChars: 100,
      logger: { error: () => {} },
      ...(maxInFlight === undefined ? {} : { maxInFlight })
    })
    const answers: Array<Promise<unknown>> = []
    const send = (text: string): void => void answers.push(settled(batcher.submit({ roomId: randomUUID(), senderId: randomUUID(), text })))
    send('a')
    await tick()
    t.same(started, expected[0], `maxInFlight ${maxInFlight ?? 'default'}: the first send leaves at once`)
    send('b')
    await tick()
    send('c')
    await tick()
    t.same(started, expected[1], `maxInFlight ${maxInFlight ?? 'default'}: sends while batches are out`)
    while (pending.length > 0) {
      pending.shift()!()
      await tick()
      await tick()
    }
    t.same(started, expected[2], `maxInFlight ${maxInFlight ?? 'default'}: every send went out`)
    t.equal((await Promise.all(answers)).length, 3)
  }
})

if (!findNatsServer() && process.env.REQUIRE_INFRA !== '1') {
  t.skip('killed mid-batch: needs nats-server', () => {})
} else {
  t.test('killed in the middle of batches: no acknowledged message is lost, every committed one is published', async (t) => {
    const nats = await startNatsServer()
    t.teardown(() => nats.destroy())
    const key = generateSigningKey()
    let databaseUrl = ''
    const env = (url: string): Record<string, string> => {
      databaseUrl = url
      return { DATABASE_URL: url, NATS_URL: nats.url, JWT_PUBLIC_KEY: key.publicKeyPem }
    }
    const started = await startServiceOnTestDatabase(t, fileURLToPath(new URL('../dist/main.js', import.meta.url)), env)
    if (!started) return
    const { service, db } = started
    const user = await db.insertInto('users').values({ display_name: 'Ada', display_name_key: 'ada', password_hash: 'x' }).returning('id').executeTakeFirstOrThrow()
    const room = await db.insertInto('rooms').values({ name: 'killed', created_by: user.id }).returning('id').executeTakeFirstOrThrow()
    await db.insertInto('room_participants').values({ room_id: room.id, user_id: user.id, role: 'owner' }).execute()
    const token = createTokenSigner(key, 600).sign({ id: user.id, displayName: 'Ada' }).token

    // Everything published on the room's subjects, as the gateways would see it.
    const subscriber = await connect({ servers: nats.url })
    t.teardown(() => subscriber.close())
    const published = new Set<number>()
    const subscription = subscriber.subscribe(`chat.room.${room.id}.>`)
    void (async () => {
      for await (const message of subscription) published.add((JSON.parse(message.string()) as { seq: number }).seq)
    })()
    await subscriber.flush()

    const acknowledged: Array<{ id: string; seq: number }> = []
    let killed = false
    const sends = Array.from({ length: 400 }, async (_, index) => {
      try {
        const response = await fetch(`${service.baseUrl}/messages/${room.id}/`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text: `message ${index}`, client_msg_id: `m-${index}` })
        })
        if (response.status === 201) acknowledged.push((await response.json()) as { id: string; seq: number })
      } catch {
        // The process died under this request: not acknowledged.
      }
      if (!killed && acknowledged.length >= 100) {
        killed = true
        service.child.kill('SIGKILL')
      }
    })
    await Promise.all(sends)
    t.ok(killed && acknowledged.length >= 100, `killed after ${acknowledged.length} acknowledgements`)

    const stored = new Map((await db.selectFrom('messages').select(['id', 'seq']).where('room_id', '=', room.id).execute()).map((row) => [row.id, Number(row.seq)]))
    t.same(acknowledged.filter((message) => stored.get(message.id) !== message.seq), [], 'every acknowledged message is stored with its seq')
    const committed = (await db.selectFrom('room_events').select('seq').where('room_id', '=', room.id).execute()).map((row) => Number(row.seq)).sort((a, b) => a - b)
    t.same(committed, Array.from({ length: committed.length }, (_, index) => index + 1), 'the committed events are gapless')

    // A replacement process: its relay publishes what the killed one committed but never published.
    const restarted = await startServiceProcess(fileURLToPath(new URL('../dist/main.js', import.meta.url)), env(databaseUrl))
    t.teardown(() => { restarted.child.kill('SIGKILL') })
    await waitFor(() => committed.every((seq) => published.has(seq)), 20_000).catch(() => undefined)
    t.same(committed.filter((seq) => !published.has(seq)), [], 'every committed event reached the bus')
    const unpublished = async (): Promise<number> => (await db.selectFrom('room_events_outbox').select('seq').where('room_id', '=', room.id).execute()).length
    await waitFor(async () => (await unpublished()) === 0, 10_000).catch(() => undefined)
    t.equal(await unpublished(), 0, 'and marks every one published')
  })
}
