// The svc.messages.send scenario, run over the in-process bus and over a real nats-server.
import type { Message } from '@chat/contracts'
import { subjects } from '@chat/contracts'
import type { Test } from 'tap'
import type { EventBus } from '@chat/bus'
import type { SendMessageReply } from '../src/index.js'
import { bearer, publicUser, settle, type Harness } from './helper.js'

type Tap = Test

export async function requestSend(bus: EventBus, payload: unknown, subject: string = subjects.messagesSend()): Promise<SendMessageReply> {
  const data = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(JSON.stringify(payload))
  const reply = await bus.request(subject, data, { timeoutMs: 5_000 })
  return JSON.parse(Buffer.from(reply.data).toString('utf8')) as SendMessageReply
}

export async function sendRequestAnswersLikeHttp(t: Tap, harness: Harness, bus: EventBus, subject?: string): Promise<void> {
  const { app, events, createUser, createRoom, send } = harness
  const ada = await createUser('Ada over the bus')
  const eve = await createUser()
  const roomId = await createRoom(ada)
  const user = { id: ada.id, display_name: ada.display_name }

  const viaHttp = await send(ada, roomId, { text: 'over http', client_msg_id: 'h-1' })
  t.equal(viaHttp.statusCode, 201)
  const created = await requestSend(bus, { user, room_id: roomId, text: '  over the bus  ', client_msg_id: 'b-1', request_id: 'req-bus-1' }, subject)
  t.equal(created.status, 201, 'a good send is 201')
  if (!('message' in created)) throw new Error(`expected a message, got ${JSON.stringify(created)}`)
  const message = created.message
  t.same(Object.keys(message).sort(), Object.keys(viaHttp.json()).sort(), 'the same message shape as HTTP')
  t.same(message, { ...message, room_id: roomId, seq: 2, sender: publicUser(ada), text: '  over the bus  ', client_msg_id: 'b-1', edited_at: null, deleted: false, reactions: {}, my_reaction: null })
  const listed = (await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bearer(ada) })).json<Message[]>()
  t.same(listed[1], message, 'stored exactly as a POST stores it')

  const repeat = await requestSend(bus, { user, room_id: roomId, text: 'again', client_msg_id: 'b-1' }, subject)
  t.same(repeat, { status: 200, message }, 'a repeat is 200 with the stored message')
  const httpRepeat = await send(ada, roomId, { text: 'again', client_msg_id: 'b-1' })
  t.equal(httpRepeat.statusCode, 200, 'HTTP sees the same repeat')
  t.same(httpRepeat.json(), message)

  const outsider = await requestSend(bus, { user: { id: eve.id, display_name: eve.display_name }, room_id: roomId, text: 'let me in' }, subject)
  const httpOutsider = await send(eve, roomId, { text: 'let me in' })
  t.equal(outsider.status, 403)
  t.same('problem' in outsider ? outsider.problem : undefined, httpOutsider.json(), 'the same problem details as HTTP')

  const empty = await requestSend(bus, { user, room_id: roomId, text: '   ' }, subject)
  const httpEmpty = await send(ada, roomId, { text: '   ' })
  t.equal(empty.status, 400)
  t.same('problem' in empty ? empty.problem : undefined, httpEmpty.json())
  t.same('problem' in empty ? empty.problem.errors : undefined, [{ path: '/text', message: 'must not be blank' }])

  // A reply with a mention, and a reply into another room, as the socket's message frame sends them.
  const bob = await createUser('Bob over the bus')
  const pair = await createRoom(ada, [bob])
  const root = (await send(bob, pair, { text: 'root' })).json<Message>()
  const reply = await requestSend(bus, { user, room_id: pair, text: 'yes @"Bob over the bus"', reply_to: root.id, mentions: [eve.id] }, subject)
  t.equal(reply.status, 201)
  t.match('message' in reply ? reply.message : undefined, { reply_to: root.id, mentions: [publicUser(bob)] }, 'reply_to and mentions travel; an outsider id is dropped')
  const foreignReply = await requestSend(bus, { user, room_id: roomId, text: 'wrong room', reply_to: root.id }, subject)
  t.equal(foreignReply.status, 404)
  t.same('problem' in foreignReply ? foreignReply.problem : undefined, (await send(ada, roomId, { text: 'wrong room', reply_to: root.id })).json())

  const unknownRoom = '00000000-0000-4000-8000-000000000000'
  const unknown = await requestSend(bus, { user, room_id: unknownRoom, text: 'hello?' }, subject)
  t.equal(unknown.status, 404)
  t.same('problem' in unknown ? unknown.problem : undefined, (await send(ada, unknownRoom, { text: 'hello?' })).json())

  for (const [label, payload, path] of [
    ['not JSON', '{"user":', undefined],
    ['not an object', '[1,2]', '/'],
    ['no user', { room_id: roomId, text: 'x' }, '/user'],
    ['malformed room id', { user, room_id: 'nope', text: 'x' }, '/room_id'],
    ['text not a string', { user, room_id: roomId, text: 5 }, '/text'],
    ['unknown member', { user, room_id: roomId, text: 'x', admin: true }, '/admin']
  ] as const) {
    const reply = await requestSend(bus, payload, subject)
    t.equal(reply.status, 400, label)
    const problem = 'problem' in reply ? reply.problem : undefined
    t.equal(problem?.status, 400, `${label}: problem details`)
    if (path) {
      t.equal(problem?.code, 'validation_failed', label)
      t.ok(problem?.errors?.some((issue) => issue.path === path), `${label}: error at ${path}`)
    } else {
      t.equal(problem?.code, 'invalid_json', label)
    }
  }

  const afterMalformed = await requestSend(bus, { user, room_id: roomId, text: 'still answering' }, subject)
  t.equal(afterMalformed.status, 201, 'the responder survives malformed requests')
  t.equal('message' in afterMalformed ? afterMalformed.message.seq : undefined, 3, 'refused requests took no seq')

  await settle(200)
  const seqs = events.filter((event) => event.frame.room_id === roomId).map((event) => event.frame.seq)
  t.same(seqs, [1, 2, 3], 'one event per stored message, none for repeats or refusals')
  const busEvent = events.find((event) => event.frame.seq === 2 && event.frame.room_id === roomId)
  t.same(busEvent?.frame, { type: 'message.created', room_id: roomId, seq: 2, message })
}
