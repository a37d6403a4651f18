import { test } from 'tap'
import { afterSeqOf, isRoomId, socketToken } from '../src/upgrade-request.js'
import { build } from './helper.js'

test('after_seq: digits only, a safe integer; absent is undefined, anything else is null (closed with 1008)', async (t) => {
  t.equal(afterSeqOf({}), undefined)
  t.equal(afterSeqOf(undefined), undefined)
  t.equal(afterSeqOf({ after_seq: '0' }), 0)
  t.equal(afterSeqOf({ after_seq: '007' }), 7)
  t.equal(afterSeqOf({ after_seq: '9007199254740991' }), Number.MAX_SAFE_INTEGER)
  for (const bad of ['', '-1', '1e3', ' 7', '0x10', '1.5', '9007199254740992', '12345678901234567', ['1', '2']]) {
    t.equal(afterSeqOf({ after_seq: bad }), null, JSON.stringify(bad))
  }
})

test('a room id is a UUID', async (t) => {
  t.ok(isRoomId('0190a0a0-0000-7000-8000-000000000000'))
  t.ok(isRoomId('0190A0A0-0000-7000-8000-000000000000'))
  t.notOk(isRoomId('not-a-uuid'))
  t.notOk(isRoomId('urn:uuid:0190a0a0-0000-7000-8000-000000000000'))
})

test('the token: Authorization first, then the bearer subprotocol pair, then a non-empty ?token=', async (t) => {
  const request = (headers: Record<string, string>, query: unknown = {}) => ({ id: 'r', headers, query })
  t.equal(socketToken(request({ authorization: 'Bearer a', 'sec-websocket-protocol': 'bearer, b' }, { token: 'c' })), 'a')
  t.equal(socketToken(request({ 'sec-websocket-protocol': 'bearer, b' }, { token: 'c' })), 'b')
  t.equal(socketToken(request({}, { token: 'c' })), 'c')
  t.equal(socketToken(request({}, { token: '' })), undefined)
  t.equal(socketToken(request({}, { token: ['c', 'd'] })), undefined)
  t.equal(socketToken(request({ 'sec-websocket-protocol': 'chat, b' })), undefined)
})

test('the upgrade routes are documented with their schemas', async (t) => {
  const h = await build(t)
  const document = (await h.gateways[0]!.app.inject('/docs/json')).json<{ paths: Record<string, { get?: { operationId?: string; parameters?: Array<{ name: string; in: string }> } }> }>()
  t.equal(document.paths['/ws/']?.get?.operationId, 'openSocket')
  const room = document.paths['/ws/chat/{room_id}/']?.get
  t.equal(room?.operationId, 'openRoomSocket')
  t.same(room?.parameters?.map((parameter) => `${parameter.in} ${parameter.name}`).sort(), ['path room_id', 'query after_seq', 'query token'])
})
