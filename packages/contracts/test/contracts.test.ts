import { readFile } from 'node:fs/promises'
import t from 'tap'
import { Compile } from 'typebox/compile'
import {
  Block,
  ClientFrame,
  Me,
  ParticipantRoleBody,
  UpdateMeBody,
  Reaction,
  ReactionListEntry,
  RoomEventFrame,
  ServerFrame,
  TypingFrame,
  envelopeFromHeaders,
  envelopeToHeaders,
  roomEventId,
  subjects,
  chatEventsStreamSubjects,
  closeCodes,
  roomEventTypes,
  roomEventWriters
} from '../src/index.js'

const roomId = '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f'
const user = { id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e60', display_name: 'Ada', created_at: '2026-11-26T20:15:00.123Z' }
const message = {
  id: '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e61', room_id: roomId, seq: 3, sender: user, text: 'hi',
  client_msg_id: null, created_at: '2026-11-26T20:15:00.123Z', edited_at: null, deleted: false,
  reactions: { like: 2 }, my_reaction: null, reply_to: null, reply_count: 0, last_reply_at: null, mentions: []
}

t.test('room event frames validate and reject', async (t) => {
  const check = Compile(RoomEventFrame)
  t.ok(check.Check({ type: 'message.created', room_id: roomId, seq: 3, message }))
  t.ok(check.Check({ type: 'message.deleted', room_id: roomId, seq: 4, message_id: message.id }))
  t.ok(check.Check({ type: 'reaction.updated', room_id: roomId, seq: 5, message_id: message.id, user, reaction: null, reactions: {} }))
  t.notOk(check.Check({ type: 'message.created', room_id: roomId, seq: -1, message }), 'negative seq')
  t.notOk(check.Check({ type: 'typing', room_id: roomId, user }), 'typing is not a stored event')
  t.notOk(check.Check({ type: 'message.created', room_id: 'nope', seq: 1, message }), 'room id must be a uuid')
  const reply = { ...message, seq: 4, reply_to: message.id, mentions: [user] }
  t.ok(check.Check({ type: 'message.created', room_id: roomId, seq: 4, message: reply, thread_root: { id: message.id, reply_count: 1, last_reply_at: message.created_at } }), 'a reply carries its root\'s counts')
  t.notOk(check.Check({ type: 'message.created', room_id: roomId, seq: 3, message: { ...message, mentions: undefined } }), 'mentions are always there')
})

t.test('a mention notice is a server frame without a seq', async (t) => {
  t.ok(Compile(ServerFrame).Check({ type: 'mention', room_id: roomId, message }))
  t.notOk(Compile(ServerFrame).Check({ type: 'mention', room_id: roomId }), 'with its message')
})

t.test('typing carries no seq and is a server frame', async (t) => {
  t.notOk('seq' in TypingFrame.properties)
  t.ok(Compile(ServerFrame).Check({ type: 'typing', room_id: roomId, user, active: true }))
  t.notOk(Compile(ServerFrame).Check({ type: 'typing', room_id: roomId, user }), 'typing says whether it starts or stops')
})

t.test('client frames', async (t) => {
  const check = Compile(ClientFrame)
  t.ok(check.Check({ type: 'message', text: 'hello', ref: 'r1' }))
  t.ok(check.Check({ type: 'subscribe', room_id: roomId, after_seq: 0 }))
  t.notOk(check.Check({ type: 'subscribe' }), 'subscribe needs a room')
  t.ok(check.Check({ type: 'message', text: 'hi @Ada', reply_to: message.id, mentions: [user.id] }), 'a reply with mentions')
  t.notOk(check.Check({ type: 'message', text: 'hi', reply_to: 'nope' }), 'reply_to is a message id')
  t.notOk(check.Check({ type: 'message', text: 'hi', mentions: [user.id, user.id] }), 'a user is mentioned once')
  t.notOk(check.Check({ type: 'message', text: 'hi', mentions: Array.from({ length: 51 }, (_, i) => `0190f5e2-7a1b-7c3d-8e9f-${String(i).padStart(12, '0')}`) }), 'at most 50 mentions')
  t.notOk(check.Check({ type: 'explode' }))
})

t.test('envelope round trip through headers', async (t) => {
  const envelope = { event_id: roomEventId(roomId, 7), room_id: roomId, seq: 7, type: 'message.created', time: '2026-11-26T20:15:00.123Z', request_id: 'req-1' }
  const headers = envelopeToHeaders(envelope)
  t.same(envelopeFromHeaders((name) => headers[name]), envelope)
  t.equal(envelopeFromHeaders(() => undefined), undefined)
  t.equal(envelopeFromHeaders((name) => (name === 'Chat-Seq' ? 'x' : headers[name])), undefined, 'bad seq')
})

t.test('subjects', async (t) => {
  t.equal(subjects.roomEvent(roomId, 'message.created'), `chat.room.${roomId}.message.created`)
  t.equal(subjects.roomTyping(roomId), `chat.room.${roomId}.typing`)
  t.equal(subjects.roomAll(roomId), `chat.room.${roomId}.>`)
  // every stored type falls under one stream subject; typing under none
  const matches = (subject: string) => chatEventsStreamSubjects.some((pattern) => {
    const p = pattern.split('.'); const s = subject.split('.')
    for (let i = 0; i < p.length; i++) {
      if (p[i] === '>') return s.length > i
      if (p[i] !== '*' && p[i] !== s[i]) return false
    }
    return p.length === s.length
  })
  for (const type of roomEventTypes) t.ok(matches(subjects.roomEvent(roomId, type)), type)
  t.notOk(matches(subjects.roomTyping(roomId)))
  t.equal(subjects.inboxPrefix('rooms'), '_INBOX.rooms')
  t.equal(subjects.userMention(user.id), `chat.user.${user.id}.mention`)
  t.notOk(matches(subjects.userMention(user.id)), 'mention notices are not stored')
})

t.test('every stored event type has exactly one writer', async (t) => {
  const written: string[] = Object.values(roomEventWriters).flat()
  t.same([...written].sort(), [...roomEventTypes].sort())
})

t.test('the constants subpath: no imports at all, so browsers get no TypeBox; the same values as the index', async (t) => {
  const source = await readFile(new URL('../src/constants.ts', import.meta.url), 'utf8')
  t.notMatch(source, /^\s*(import|export)\b[^\n]*\bfrom\s/m, 'constants.ts imports and re-exports nothing')
  const constants = await import('@chat/contracts/constants')
  t.same(constants.closeCodes, closeCodes, 'the built subpath carries the same close codes')
  t.same(constants.roomEventTypes, roomEventTypes)
  const frameTypes = RoomEventFrame.anyOf.map((frame) => frame.properties.type.const)
  t.same([...roomEventTypes].sort(), [...frameTypes].sort(), 'roomEventTypes lists every event frame type once')
})

t.test('a reaction and a reaction list entry', async (t) => {
  const reaction = { message_id: message.id, user, reaction: 'like', created_at: '2026-11-26T20:15:00.123Z', updated_at: '2026-11-26T20:15:00.123Z' }
  t.ok(Compile(Reaction).Check(reaction))
  t.notOk(Compile(Reaction).Check({ ...reaction, user: undefined }))
  t.ok(Compile(ReactionListEntry).Check({ name: 'like', emoji: '👍', label: 'Like' }))
  t.notOk(Compile(ReactionListEntry).Check({ name: 'Like', emoji: '👍', label: 'Like' }), 'names are lower case')
})

t.test('roles and consent: participants.updated, the role body, Me, its update and Block', async (t) => {
  const participant = { id: user.id, display_name: 'Ada', role: 'admin', joined_at: '2026-11-26T20:15:00.123Z' }
  t.ok(Compile(RoomEventFrame).Check({ type: 'participants.updated', room_id: roomId, seq: 4, participants: [participant] }))
  t.notOk(Compile(RoomEventFrame).Check({ type: 'participants.updated', room_id: roomId, seq: 4, participants: [{ ...participant, role: 'moderator' }] }))
  t.ok(roomEventWriters.rooms.includes('participants.updated'), 'the rooms service writes it')
  const roleBody = Compile(ParticipantRoleBody)
  t.ok(roleBody.Check({ role: 'admin' }))
  t.ok(roleBody.Check({ role: 'member' }))
  t.notOk(roleBody.Check({ role: 'owner' }), 'ownership is handed over by leaving, never set')
  t.ok(Compile(Me).Check({ ...user, rooms_invite: 'nobody' }))
  t.notOk(Compile(Me).Check(user), 'Me always says rooms_invite')
  const update = Compile(UpdateMeBody)
  t.ok(update.Check({ rooms_invite: 'anyone' }))
  t.notOk(update.Check({}), 'at least one setting')
  t.notOk(update.Check({ rooms_invite: 'friends' }))
  t.ok(Compile(Block).Check({ user, created_at: '2026-11-26T20:15:00.123Z' }))
})
