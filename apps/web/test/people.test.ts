import type { Block, Participant, Room, User } from '@chat/client'
import t from 'tap'
import { addBlock, isBlocked, removeBlock } from '../src/state/people.slice.js'
import { canAddPeople, canManageRoom, canRemove, canSetRole, isOwner, roleOf } from '../src/state/roles.js'
import { mergeRoomUpdate, removeParticipants } from '../src/state/rooms.slice.js'
import { createdAt, deepFreeze, room, stateWith, user } from './fixtures.js'

const ada = user('Ada')
const bob = user('Bob')
const cy = user('Cy')
const dee = user('Dee')

function participant(who: User, role: Participant['role']): Participant {
  return { id: who.id, display_name: who.display_name, role, joined_at: createdAt }
}

/** Ada owns it, Bob is an admin, Cy and Dee are members. */
function teaRoom(fields: Partial<Room> = {}): Room {
  return room('Tea', ada, {
    participants: [participant(ada, 'owner'), participant(bob, 'admin'), participant(cy, 'member'), participant(dee, 'member')],
    ...fields
  })
}

function part(of: Room, who: User): Participant {
  const found = of.participants.find((entry) => entry.id === who.id)
  if (!found) throw new Error(`${who.display_name} is not in ${of.name}`)
  return found
}

t.test('roles: the owner changes anyone else’s role, nobody else changes any', async (t) => {
  const tea = teaRoom()
  t.equal(roleOf(tea, bob.id), 'admin')
  t.equal(roleOf(tea, 'stranger'), undefined)
  t.ok(isOwner(tea, ada.id))
  t.notOk(isOwner(tea, bob.id))
  t.ok(canSetRole(tea, ada.id, part(tea, bob)), 'owner demotes an admin')
  t.ok(canSetRole(tea, ada.id, part(tea, cy)), 'owner promotes a member')
  t.notOk(canSetRole(tea, ada.id, part(tea, ada)), 'not the owner’s own role')
  t.notOk(canSetRole(tea, bob.id, part(tea, cy)), 'an admin does not promote')
  t.notOk(canSetRole(tea, cy.id, part(tea, dee)), 'a member does not promote')
})

t.test('roles: removal as the server allows it', async (t) => {
  const tea = teaRoom()
  t.ok(canRemove(tea, ada.id, part(tea, bob)), 'owner removes an admin')
  t.ok(canRemove(tea, ada.id, part(tea, cy)), 'owner removes a member')
  t.notOk(canRemove(tea, ada.id, part(tea, ada)), 'removing oneself is leaving')
  t.ok(canRemove(tea, bob.id, part(tea, cy)), 'an admin removes a member')
  t.notOk(canRemove(tea, bob.id, part(tea, ada)), 'an admin never removes the owner')
  const twoAdmins = teaRoom({ participants: [...tea.participants.slice(0, 2), participant(cy, 'admin')] })
  t.notOk(canRemove(twoAdmins, bob.id, part(twoAdmins, cy)), 'nor another admin')
  t.notOk(canRemove(tea, cy.id, part(tea, dee)), 'a member removes nobody')
})

t.test('roles: managing and adding, and a direct room offers none of it', async (t) => {
  const tea = teaRoom()
  t.ok(canManageRoom(tea, ada.id))
  t.ok(canManageRoom(tea, bob.id))
  t.notOk(canManageRoom(tea, cy.id), 'a member neither renames nor sets the image')
  t.ok(canAddPeople(tea, cy.id), 'members add people by default')
  const closed = teaRoom({ members_can_add: false })
  t.notOk(canAddPeople(closed, cy.id), 'not when the owner says so')
  t.ok(canAddPeople(closed, bob.id), 'admins still do')
  t.ok(canAddPeople(closed, ada.id))
  const direct = room('Bob', ada, { kind: 'direct', participants: [participant(ada, 'member'), participant(bob, 'member')] })
  t.notOk(canAddPeople(direct, ada.id))
  t.notOk(canManageRoom(direct, ada.id))
  t.notOk(canRemove(direct, ada.id, part(direct, bob)))
  t.notOk(canSetRole(direct, ada.id, part(direct, bob)))
})

t.test('roles: a role changed live changes what the caller may do', async (t) => {
  const tea = teaRoom()
  // What participants.updated does to the room (state/room-events.ts), seen from Cy's side.
  const promoted = { ...tea, participants: tea.participants.map((entry) => (entry.id === cy.id ? { ...entry, role: 'admin' as const } : entry)) }
  t.notOk(canRemove(tea, cy.id, part(tea, dee)))
  t.ok(canRemove(promoted, cy.id, part(promoted, dee)), 'Cy, now admin, removes a member')
  t.ok(canManageRoom(promoted, cy.id))
})

t.test('rooms: the caller’s removal of someone, and the room a write answers with', async (t) => {
  const tea = deepFreeze(teaRoom({ last_seq: 4, last_read_seq: 3, unread_count: 1 }))
  t.same(removeParticipants(tea, [{ id: cy.id }]).participants.map((entry) => entry.display_name), ['Ada', 'Bob', 'Dee'])
  const answered = { ...tea, last_seq: 5, last_read_seq: 0, unread_count: 0, members_can_add: false }
  const merged = mergeRoomUpdate(tea, answered, answered.last_seq)
  t.equal(merged.last_seq, 5)
  t.equal(merged.members_can_add, false)
  t.equal(merged.last_read_seq, 3, 'the local read position stays')
  t.equal(merged.unread_count, 1)
})

t.test('blocks: added first, once per user, and lifted', async (t) => {
  const block = (who: User, at: string): Block => ({ user: who, created_at: at })
  let state = deepFreeze(stateWith(ada, []))
  t.notOk(isBlocked(state, bob.id))
  state = deepFreeze(addBlock(state, block(bob, '2026-12-01T10:00:00.000Z')))
  state = deepFreeze(addBlock(state, block(cy, '2026-12-01T11:00:00.000Z')))
  t.same(state.blocks.map((entry) => entry.user.display_name), ['Cy', 'Bob'], 'latest first')
  state = deepFreeze(addBlock(state, block(bob, '2026-12-01T10:00:00.000Z')))
  t.same(state.blocks.map((entry) => entry.user.display_name), ['Cy', 'Bob'], 'a repeated block is one entry, in its place')
  t.ok(isBlocked(state, bob.id))
  state = removeBlock(state, bob.id)
  t.notOk(isBlocked(state, bob.id))
  t.ok(isBlocked(state, cy.id))
  t.same(removeBlock(state, 'nobody').blocks, state.blocks, 'lifting a block that is not there changes nothing')
})
