import { test } from 'tap'
import { closeCodes } from '@chat/contracts'
import { bearer } from '@chat/service-kit/testing'
import { build, connect } from './helper.js'

// Removal by another participant is the same `participants.removed` event a
// user's own leaving writes: every gateway that holds one of the removed
// user's sockets ends that room there, whichever gateway the remover uses.
test('on NATS, two gateways: a removed participant\'s sockets stop receiving the room at once; role changes arrive as participants.updated frames', async (t) => {
  const h = await build(t, { transport: 'nats', gateways: 2 })
  const [ada, bob, cat] = [await h.createUser(), await h.createUser(), await h.createUser()]
  const roomId = await h.createRoom(ada, [bob, cat])
  const [near, far] = h.gateways as [(typeof h.gateways)[number], (typeof h.gateways)[number]]
  // Bob's sockets are all on one gateway; Ada and Cat watch through the other.
  const bobRoom = connect(t, near, `/ws/chat/${roomId}/`, bob)
  const bobAll = connect(t, near, '/ws/', bob)
  bobAll.send({ type: 'subscribe', room_id: roomId, ref: 's' })
  const adaRoom = connect(t, far, `/ws/chat/${roomId}/`, ada)
  const catRoom = connect(t, far, `/ws/chat/${roomId}/`, cat)
  for (const socket of [bobRoom, bobAll, adaRoom, catRoom]) await socket.next('subscribed')

  const promoted = await h.rooms.inject({ method: 'PATCH', url: `/chatrooms/${roomId}/participants/${cat.id}/`, headers: bearer(ada), payload: { role: 'admin' } })
  t.equal(promoted.statusCode, 200)
  for (const socket of [bobRoom, bobAll, adaRoom, catRoom]) {
    const frame = await socket.next('participants.updated')
    t.match(frame, { room_id: roomId, seq: 1, participants: [{ id: cat.id, role: 'admin' }] }, 'the role change reaches every socket on both gateways')
  }

  await h.send(ada, roomId, 'before')
  await bobAll.until(() => bobAll.events(roomId).length === 2)

  const removed = await h.rooms.inject({ method: 'DELETE', url: `/chatrooms/${roomId}/participants/${bob.id}/`, headers: bearer(cat) })
  t.equal(removed.statusCode, 204, 'an admin removes a member')
  t.equal((await bobRoom.closed).code, closeCodes.notAParticipant, 'the room socket closes with 4403')
  const ended = await bobAll.next('error', (frame) => frame.room_id === roomId)
  t.match(ended, { code: 'not_a_member', room_id: roomId }, 'the /ws/ socket is told its subscription ended')
  t.match(await adaRoom.next('participants.removed'), { seq: 3, users: [{ id: bob.id }] })

  await h.send(ada, roomId, 'after')
  await adaRoom.until(() => adaRoom.events(roomId).length === 4)
  await catRoom.until(() => catRoom.events(roomId).length === 4)
  t.same(bobAll.events(roomId).map((frame) => frame.seq), [1, 2, 3], 'nothing after the removal reached Bob\'s open socket')
  t.same(bobRoom.events(roomId).map((frame) => frame.seq), [1, 2, 3])
  bobAll.send({ type: 'subscribe', room_id: roomId, ref: 'again' })
  t.match(await bobAll.next('error', (frame) => frame.ref === 'again'), { code: 'not_a_member' }, 'and it cannot subscribe again')
})
