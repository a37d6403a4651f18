import t from 'tap'
import type { RoomEventFrame } from '@chat/contracts'
import { RoomPositions } from '../src/room-positions.js'

const roomId = '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f'
const event = (seq: number): RoomEventFrame => ({ type: 'message.deleted', room_id: roomId, seq, message_id: roomId })

t.test('in order, each seq once; a gap is a gap; an unfollowed room is dropped', async (t) => {
  const rooms = new RoomPositions()
  t.equal(rooms.accept(event(1)), 'drop', 'not followed')
  t.equal(rooms.follow(roomId, 3), 3)
  t.same([4, 4, 3, 6].map((seq) => rooms.accept(event(seq))), ['deliver', 'drop', 'drop', 'gap'])
  t.equal(rooms.lastSeq(roomId), 4)
  t.equal(rooms.follow(roomId), 4, 'following again keeps the position')
  t.same(rooms.resumePoints(), [[roomId, 4]])
})

t.test('without a resume point the subscribed frame sets it; resync holds events until reset', async (t) => {
  const rooms = new RoomPositions()
  rooms.follow(roomId)
  t.ok(rooms.subscribed(roomId, 10))
  t.equal(rooms.lastSeq(roomId), 10)
  t.ok(rooms.holdForResync(roomId))
  t.equal(rooms.accept(event(11)), 'drop', 'held back')
  t.ok(rooms.subscribed(roomId, 12))
  t.equal(rooms.lastSeq(roomId), 10, 'a subscribed frame does not move a held room')
  t.ok(rooms.reset(roomId, 12))
  t.equal(rooms.accept(event(13)), 'deliver')
  t.ok(rooms.forget(roomId))
  t.notOk(rooms.reset(roomId, 1), 'a forgotten room')
  t.notOk(rooms.subscribed(roomId, 1))
})
