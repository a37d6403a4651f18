import type { RoomEventFrame, TypingFrame } from '@chat/client'
import t from 'tap'
import { applyRoomEvent, removesCaller } from '../src/state/room-events.js'
import { typingShownMs } from '../src/state/typing.slice.js'
import { created, createdAt, deepFreeze, id, message, room, stateWith, user } from './fixtures.js'

const now = Date.parse('2026-12-01T12:00:00.000Z')
const ada = user('Ada')
const bob = user('Bob')
const cy = user('Cy')

/** Ada's view: two rooms, "general" (opened, two messages) below "random" (never opened). */
function scene() {
  const general = room('general', ada, {
    participants: [
      { id: ada.id, display_name: ada.display_name, role: 'owner', joined_at: createdAt },
      { id: bob.id, display_name: bob.display_name, role: 'member', joined_at: createdAt }
    ],
    last_seq: 2,
    last_read_seq: 2
  })
  const random = room('random', bob, { last_seq: 7 })
  const first = message(general.id, ada, 1)
  const second = message(general.id, bob, 2, { reactions: { like: 1 } })
  const state = stateWith(ada, [random, general], { [general.id]: [first, second] })
  return { general, random, first, second, state: deepFreeze({ ...state, selectedRoomId: general.id }) }
}

function typing(roomId: string, who: typeof bob, active: boolean): TypingFrame {
  return { type: 'typing', room_id: roomId, user: who, active }
}

t.test('message.created from someone else: in the timeline, the room first, one more unread', async (t) => {
  const { general, random, state } = scene()
  const incoming = message(general.id, bob, 3)
  const next = applyRoomEvent(state, created(incoming), ada, now)
  t.same(next.rooms.map((entry) => entry.id), [general.id, random.id], 'the room with activity goes first')
  t.match(next.rooms[0], { last_seq: 3, unread_count: 1, last_read_seq: 2 })
  t.same(next.timelines[general.id]?.messages.map((entry) => entry.seq), [1, 2, 3])
  t.equal(next.timelines[general.id]?.messages[2], incoming)
  t.equal(next.rooms[1], random, 'the other room is the same object')
})

t.test('a reply that mentions the caller: the root\'s counts from thread_root, one more unread mention', async (t) => {
  const { general, first, state } = scene()
  const reply = message(general.id, bob, 3, { reply_to: first.id, mentions: [ada] })
  const frame = { ...created(reply), thread_root: { id: first.id, reply_count: 1, last_reply_at: reply.created_at } } as RoomEventFrame
  const next = applyRoomEvent(state, frame, ada, now)
  t.match(next.rooms[0], { unread_count: 1, unread_mentions: 1 })
  t.match(next.timelines[general.id]?.messages[0], { id: first.id, reply_count: 1, last_reply_at: reply.created_at })
  const other = applyRoomEvent(state, created(message(general.id, bob, 3, { mentions: [cy] })), ada, now)
  t.match(other.rooms[0], { unread_count: 1, unread_mentions: 0 }, 'a mention of someone else is not the caller\'s')
})

t.test('message.created from the caller: confirms the pending line with its client_msg_id, no unread', async (t) => {
  const { general, state } = scene()
  const sending = {
    ...state,
    timelines: {
      ...state.timelines,
      [general.id]: {
        ...state.timelines[general.id]!,
        pending: [
          { clientMsgId: 'mine-1', text: 'hello', status: 'sending' as const },
          { clientMsgId: 'mine-2', text: 'again', status: 'failed' as const, error: 'offline' }
        ]
      }
    }
  }
  const mine = message(general.id, ada, 3, { text: 'hello', client_msg_id: 'mine-1' })
  const next = applyRoomEvent(deepFreeze(sending), created(mine), ada, now)
  t.equal(next.rooms[0]?.unread_count, 0)
  t.equal(next.rooms[0]?.last_seq, 3)
  t.same(next.timelines[general.id]?.pending.map((line) => line.clientMsgId), ['mine-2'])
  t.same(next.timelines[general.id]?.messages.map((entry) => entry.text), ['message 1', 'message 2', 'hello'])
})

t.test('message.created ends its sender\'s typing, and only theirs', async (t) => {
  const { general, state } = scene()
  let typingState = applyRoomEvent(state, typing(general.id, bob, true), ada, now)
  typingState = applyRoomEvent(typingState, typing(general.id, cy, true), ada, now)
  const next = applyRoomEvent(deepFreeze(typingState), created(message(general.id, bob, 3)), ada, now + 100)
  t.same(next.typing[general.id]?.map((entry) => entry.user.id), [cy.id])
  const untouched = applyRoomEvent(state, created(message(general.id, cy, 3)), ada, now)
  t.equal(untouched.typing, state.typing, 'no typing entry for the sender: typing stays the same object')
})

t.test('message.created in a room never opened: the room moves and counts, no timeline appears', async (t) => {
  const { random, state } = scene()
  const next = applyRoomEvent(state, created(message(random.id, bob, 8)), ada, now)
  t.match(next.rooms[0], { id: random.id, last_seq: 8, unread_count: 1 })
  t.notOk(random.id in next.timelines)
  t.equal(next.timelines, state.timelines)
})

t.test('an event for a room not in the list changes nothing', async (t) => {
  const { state } = scene()
  const elsewhere = id('room')
  const next = applyRoomEvent(state, created(message(elsewhere, bob, 1)), ada, now)
  t.equal(next.rooms, state.rooms)
  t.equal(next.timelines, state.timelines)
  t.notOk(elsewhere in next.timelines)
})

t.test('message.updated: the incoming copy replaces the shown one in place', async (t) => {
  const { general, second, state } = scene()
  const edited = { ...second, text: 'edited', edited_at: '2026-12-01T11:00:00.000Z' }
  const next = applyRoomEvent(state, { type: 'message.updated', room_id: general.id, seq: 3, message: edited }, ada, now)
  t.same(next.timelines[general.id]?.messages.map((entry) => entry.text), ['message 1', 'edited'])
  t.match(next.rooms[0], { id: general.id, last_seq: 3, unread_count: 0 }, 'an edit moves the room first but is not unread')
})

t.test('message.deleted: the line stays, emptied and marked deleted', async (t) => {
  const { general, second, state } = scene()
  const next = applyRoomEvent(state, { type: 'message.deleted', room_id: general.id, seq: 3, message_id: second.id }, ada, now)
  t.match(next.timelines[general.id]?.messages[1], { id: second.id, deleted: true, text: '', reactions: {} })
  t.equal(next.timelines[general.id]?.messages[0], state.timelines[general.id]?.messages[0], 'the other message is untouched')
  t.equal(next.rooms[0]?.last_seq, 3)
})

t.test('reaction.updated: counts for everyone, my_reaction only when the user is the caller', async (t) => {
  const { general, second, state } = scene()
  const frame = (who: typeof ada, reaction: string | null, reactions: Record<string, number>): RoomEventFrame => ({
    type: 'reaction.updated',
    room_id: general.id,
    seq: 3,
    message_id: second.id,
    user: who,
    reaction,
    reactions
  })
  const byBob = applyRoomEvent(state, frame(bob, 'heart', { like: 1, heart: 1 }), ada, now)
  t.same(byBob.timelines[general.id]?.messages[1]?.reactions, { like: 1, heart: 1 })
  t.equal(byBob.myReactions, state.myReactions, 'someone else\'s reaction is not mine')
  t.equal(byBob.rooms[0]?.last_seq, 3)

  const byMe = applyRoomEvent(deepFreeze(byBob), frame(ada, 'like', { like: 2, heart: 1 }), ada, now)
  t.same(byMe.myReactions, { [second.id]: 'like' })
  t.same(byMe.timelines[general.id]?.messages[1]?.reactions, { like: 2, heart: 1 })

  const removed = applyRoomEvent(deepFreeze(byMe), frame(ada, null, { like: 1, heart: 1 }), ada, now)
  t.same(removed.myReactions, { [second.id]: null }, 'a removal is remembered as null')
})

t.test('participants.added: newcomers join as members now; someone already there is not repeated', async (t) => {
  const { general, state } = scene()
  const next = applyRoomEvent(state, { type: 'participants.added', room_id: general.id, seq: 3, users: [bob, cy] }, ada, now)
  const participants = next.rooms.find((entry) => entry.id === general.id)?.participants
  t.same(participants?.map((participant) => participant.display_name), ['Ada', 'Bob', 'Cy'])
  t.same(participants?.[2], { id: cy.id, display_name: 'Cy', role: 'member', joined_at: new Date(now).toISOString() })
  t.equal(next.rooms[0]?.id, general.id)
})

t.test('participants.updated: the named participants take their new role, in place; last_seq moves', async (t) => {
  const { general, state } = scene()
  const frame: RoomEventFrame = { type: 'participants.updated', room_id: general.id, seq: 3, participants: [{ id: bob.id, display_name: 'Bob', role: 'admin', joined_at: createdAt }] }
  const next = applyRoomEvent(state, frame, ada, now)
  const updated = next.rooms.find((entry) => entry.id === general.id)
  t.same(updated?.participants.map((participant) => [participant.display_name, participant.role]), [['Ada', 'owner'], ['Bob', 'admin']])
  t.equal(updated?.last_seq, 3)
})

t.test('participants.removed of someone else: they leave the participant list', async (t) => {
  const { general, state } = scene()
  const next = applyRoomEvent(state, { type: 'participants.removed', room_id: general.id, seq: 3, users: [bob] }, ada, now)
  t.same(next.rooms.find((entry) => entry.id === general.id)?.participants.map((participant) => participant.id), [ada.id])
  t.ok(next.timelines[general.id], 'the timeline stays')
})

t.test('participants.removed of the caller: the room and all it held go; the selection is cleared', async (t) => {
  const { general, random, state } = scene()
  const withExtras = deepFreeze({
    ...applyRoomEvent(state, typing(general.id, bob, true), ada, now),
    avatars: { [general.id]: 'blob:general', [random.id]: 'blob:random' }
  })
  const frame: RoomEventFrame = { type: 'participants.removed', room_id: general.id, seq: 3, users: [ada] }
  t.ok(removesCaller(frame, ada))
  t.notOk(removesCaller(frame, bob))
  const next = applyRoomEvent(withExtras, frame, ada, now)
  t.same(next.rooms.map((entry) => entry.id), [random.id])
  t.notOk(general.id in next.timelines)
  t.same(next.avatars, { [random.id]: 'blob:random' })
  t.notOk(general.id in next.typing)
  t.equal(next.selectedRoomId, null)

  const otherSelected = applyRoomEvent(deepFreeze({ ...withExtras, selectedRoomId: random.id }), frame, ada, now)
  t.equal(otherSelected.selectedRoomId, random.id, 'another selected room stays selected')
})

t.test('room.updated: the server\'s room, with the caller\'s read position and a seq that never goes back', async (t) => {
  const { general, state } = scene()
  const unread = deepFreeze({ ...state, rooms: state.rooms.map((entry) => (entry.id === general.id ? { ...entry, unread_count: 4, last_seq: 6 } : entry)) })
  const renamed = { ...general, name: 'lobby', avatar_url: '/chatrooms/x/avatar/', last_seq: 1, last_read_seq: 0, unread_count: 0 }
  const next = applyRoomEvent(unread, { type: 'room.updated', room_id: general.id, seq: 5, room: renamed }, ada, now)
  t.match(next.rooms[0], { id: general.id, name: 'lobby', avatar_url: '/chatrooms/x/avatar/', last_seq: 6, last_read_seq: 2, unread_count: 4 })
  const later = applyRoomEvent(unread, { type: 'room.updated', room_id: general.id, seq: 9, room: renamed }, ada, now)
  t.equal(later.rooms[0]?.last_seq, 9)
})

t.test('typing: shown for 5 s, renewed by a repeat, ended by a stop; the caller\'s own is ignored', async (t) => {
  const { general, state } = scene()
  const started = applyRoomEvent(state, typing(general.id, bob, true), ada, now)
  t.same(started.typing, { [general.id]: [{ user: bob, until: now + typingShownMs }] })
  t.equal(started.rooms, state.rooms, 'typing is not activity: the list keeps its order')

  const repeated = applyRoomEvent(deepFreeze(started), typing(general.id, bob, true), ada, now + 1_000)
  t.same(repeated.typing[general.id], [{ user: bob, until: now + 1_000 + typingShownMs }], 'one entry, renewed')

  const stopped = applyRoomEvent(deepFreeze(repeated), typing(general.id, bob, false), ada, now + 2_000)
  t.same(stopped.typing, { [general.id]: [] })

  t.equal(applyRoomEvent(state, typing(general.id, ada, true), ada, now), state, 'the caller\'s own typing changes nothing')

  const withCy = applyRoomEvent(deepFreeze(started), typing(general.id, cy, true), ada, now + typingShownMs + 1)
  t.same(withCy.typing[general.id]?.map((entry) => entry.user.id), [cy.id], 'an entry past its time is dropped on the way')
})

t.test('duplicates and late seqs (the socket filters them; what the reducer does anyway)', async (t) => {
  const { general, second, state } = scene()
  const third = message(general.id, bob, 3)
  const fourth = message(general.id, bob, 4)
  const ahead = applyRoomEvent(state, created(fourth), ada, now)
  const late = applyRoomEvent(deepFreeze(ahead), created(third), ada, now)
  t.same(late.timelines[general.id]?.messages.map((entry) => entry.seq), [1, 2, 3, 4], 'a late message goes in by seq')
  t.equal(late.rooms[0]?.last_seq, 4, 'last_seq never goes back')

  const again = applyRoomEvent(deepFreeze(late), created({ ...third, text: 'a second copy' }), ada, now)
  t.same(again.timelines[general.id]?.messages.map((entry) => entry.text), ['message 1', 'message 2', 'message 3', 'message 4'], 'one line, the copy shown first')
  t.equal(again.rooms[0]?.last_seq, 4)
  t.equal(again.rooms[0]?.unread_count, 3, 'unread is counted per event: a duplicate is counted again')

  const staleEdit = applyRoomEvent(deepFreeze(late), { type: 'message.updated', room_id: general.id, seq: 2, message: { ...second, text: 'old' } }, ada, now)
  t.equal(staleEdit.timelines[general.id]?.messages[1]?.text, 'old', 'an edit is applied whatever its seq')
  t.equal(staleEdit.rooms[0]?.last_seq, 4)
})

t.test('the input state is never changed', async (t) => {
  const { general, second, state } = scene()
  const before = structuredClone(state)
  const frames: (RoomEventFrame | TypingFrame)[] = [
    created(message(general.id, bob, 3)),
    { type: 'message.updated', room_id: general.id, seq: 4, message: { ...second, text: 'x' } },
    { type: 'message.deleted', room_id: general.id, seq: 5, message_id: second.id },
    { type: 'reaction.updated', room_id: general.id, seq: 6, message_id: second.id, user: ada, reaction: 'like', reactions: { like: 2 } },
    { type: 'participants.added', room_id: general.id, seq: 7, users: [cy] },
    { type: 'participants.removed', room_id: general.id, seq: 8, users: [bob] },
    { type: 'room.updated', room_id: general.id, seq: 9, room: { ...general, name: 'renamed' } },
    typing(general.id, bob, true),
    { type: 'participants.removed', room_id: general.id, seq: 10, users: [ada] }
  ]
  // `state` is deeply frozen: a mutation would throw here.
  for (const frame of frames) applyRoomEvent(state, frame, ada, now)
  t.same(state, before)
})

t.test('presence: the participant is online (or not) in every room of theirs; read: their position moves forward only', async (t) => {
  const { general, state } = scene()
  const online = applyRoomEvent(state, { type: 'presence', user: bob, online: true }, ada, now)
  const bobIn = (roomId: string) => online.rooms.find((one) => one.id === roomId)?.participants.find((participant) => participant.id === bob.id)
  t.match(bobIn(general.id), { online: true, last_seen_at: new Date(now).toISOString() })
  t.equal(applyRoomEvent(state, { type: 'presence', user: cy, online: true }, ada, now), state, 'someone in none of the rooms changes nothing')
  const offline = applyRoomEvent(online, { type: 'presence', user: bob, online: false }, ada, now + 1000)
  t.equal(offline.rooms.find((one) => one.id === general.id)?.participants.find((participant) => participant.id === bob.id)?.online, false)

  const read = applyRoomEvent(state, { type: 'read', room_id: general.id, user: bob, last_read_seq: 2 }, ada, now)
  const bobRead = (s: typeof read) => s.rooms.find((one) => one.id === general.id)?.participants.find((participant) => participant.id === bob.id)?.last_read_seq
  t.equal(bobRead(read), 2)
  t.equal(applyRoomEvent(read, { type: 'read', room_id: general.id, user: bob, last_read_seq: 1 }, ada, now), read, 'never back')
  t.equal(read.rooms.find((one) => one.id === general.id)?.last_seq, general.last_seq, 'a read frame is not a room event')
  const renamed = applyRoomEvent(read, { type: 'room.updated', room_id: general.id, seq: 3, room: { ...general, name: 'renamed', last_seq: 3 } }, ada, now)
  t.equal(bobRead(renamed), 2, 'room.updated keeps what the frames told')
})
