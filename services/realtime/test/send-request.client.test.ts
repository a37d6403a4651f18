import { test } from 'tap'
import { createInProcessBus } from '@chat/bus'
import { createMessagesClient, type SendRequest } from '../src/send-request.client.js'

const request: SendRequest = {
  user: { id: '0190a0a0-0000-7000-8000-000000000001', display_name: 'Ada' },
  room_id: '0190a0a0-0000-7000-8000-000000000002',
  text: 'hello',
  request_id: 'req-1'
}

const message = {
  id: '0190a0a0-0000-7000-8000-000000000003',
  room_id: request.room_id,
  seq: 1,
  sender: { id: request.user.id, display_name: 'Ada', created_at: '2026-11-26T20:15:00.123Z' },
  text: 'hello',
  client_msg_id: null,
  created_at: '2026-11-26T20:15:00.123Z',
  edited_at: null,
  deleted: false,
  reactions: {},
  my_reaction: null,
  reply_to: null,
  reply_count: 0,
  last_reply_at: null,
  mentions: []
}

function recordingLog(): { errors: string[]; error(object: Record<string, unknown>, text: string): void } {
  const errors: string[] = []
  return { errors, error: (_object, text) => errors.push(text) }
}

/** A client whose messages service answers every request with `reply`. */
async function answering(t: { teardown(fn: () => unknown): void }, reply: unknown) {
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  await bus.serve('svc.messages.send.test', () => Buffer.from(typeof reply === 'string' ? reply : JSON.stringify(reply)))
  return createMessagesClient(bus, { subject: 'svc.messages.send.test', timeoutMs: 1_000 })
}

test('a stored message comes back as the contract\'s Message', async (t) => {
  const client = await answering(t, { status: 201, message })
  t.same(await client.send(request, recordingLog()), { message })
})

test('a refusal passes on the problem\'s code and detail', async (t) => {
  const problem = { type: 'about:blank', title: 'Forbidden', status: 403, detail: 'You do not participate in this room', code: 'not_a_member' }
  const client = await answering(t, { status: 403, problem })
  t.same(await client.send(request, recordingLog()), { error: { code: 'not_a_member', detail: 'You do not participate in this room' } })
})

test('a reply that is not the contract\'s is not trusted: the client is told to retry, and it is logged', async (t) => {
  for (const reply of [{ message: { id: 'x' } }, { status: 201 }, {}, null, 'not json', { status: 500, problem: { code: 'x' } }]) {
    const client = await answering(t, reply)
    const log = recordingLog()
    t.same(await client.send(request, log), { error: { code: 'unavailable', detail: 'the message may not have been stored; retry with the same client_msg_id' } }, JSON.stringify(reply))
    t.equal(log.errors.length, 1, 'logged')
  }
})

test('no messages service, or no answer in time: unavailable, retry with the same client_msg_id', async (t) => {
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  const nobody = createMessagesClient(bus, { subject: 'svc.messages.send.nobody', timeoutMs: 100 })
  t.match(await nobody.send(request, recordingLog()), { error: { code: 'unavailable', detail: /messages service is unavailable/ } })
  await bus.serve('svc.messages.send.slow', () => new Promise<Uint8Array>(() => undefined))
  const slow = createMessagesClient(bus, { subject: 'svc.messages.send.slow', timeoutMs: 100 })
  t.match(await slow.send(request, recordingLog()), { error: { code: 'unavailable', detail: /may not have been stored/ } })
})
