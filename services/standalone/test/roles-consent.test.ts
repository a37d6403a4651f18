// Roles and consent (issue 18) in the standalone process's app: the same
// code on PGlite with the in-process bus, driven through @chat/client.
import t from 'tap'
import { ChatApiError, createChatClient, type ChatClient } from '@chat/client'
import { listeningStandalone } from './helper.js'


async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ChatApiError) return error.code
    throw error
  }
  return undefined
}

t.test('roles and consent on PGlite, through the typed client', async (t) => {
  const { baseUrl } = await listeningStandalone(t, { userRps: 0 })
  const clients: Record<string, ChatClient> = {}
  for (const name of ['Ada', 'Bob', 'Cat', 'Dan']) {
    clients[name] = createChatClient({ baseUrl })
    await clients[name].auth.register({ display_name: name, password: 'long enough' })
  }
  const { Ada: ada, Bob: bob, Cat: cat, Dan: dan } = clients as Record<'Ada' | 'Bob' | 'Cat' | 'Dan', ChatClient>
  const id = (client: ChatClient) => client.session?.user.id ?? ''

  const room = await ada.rooms.create({ name: 'Crew', participants_display_names: ['Bob', 'Cat'] })
  t.same(room.participants.map((participant) => participant.role), ['owner', 'member', 'member'])
  t.equal(room.members_can_add, true)
  t.same((await ada.rooms.setRole(room.id, id(bob), 'admin')).participants.map((participant) => participant.role), ['owner', 'admin', 'member'])
  t.equal(await codeOf(bob.rooms.setRole(room.id, id(cat), 'admin')), 'owner_required')
  t.equal(await codeOf(cat.rooms.rename(room.id, 'Mine')), 'admin_required')
  t.equal((await ada.rooms.update(room.id, { members_can_add: false })).members_can_add, false)
  t.equal(await codeOf(cat.rooms.addUsers(room.id, ['Dan'])), 'admin_required')
  t.equal(await codeOf(bob.rooms.removeParticipant(room.id, id(ada))), 'outranked')
  await bob.rooms.removeParticipant(room.id, id(cat))
  t.equal(await codeOf(cat.rooms.get(room.id)), 'not_a_member', 'removed')

  await ada.rooms.leave(room.id)
  const after = await bob.rooms.get(room.id)
  t.same(after.participants.map((participant) => [participant.display_name, participant.role]), [['Bob', 'owner']], 'the admin inherits the room')

  // Consent: Dan blocks Bob, Cat lets nobody invite her.
  t.equal((await dan.users.blocks.block(id(bob))).user.display_name, 'Bob')
  t.same((await dan.users.blocks.list()).map((block) => block.user.id), [id(bob)])
  t.equal((await cat.users.update({ rooms_invite: 'nobody' })).rooms_invite, 'nobody')
  t.equal((await cat.users.me()).rooms_invite, 'nobody')
  t.equal(await codeOf(bob.rooms.addUsers(room.id, ['Dan'])), 'users_not_found', 'blocked: as an unknown name')
  t.equal(await codeOf(bob.rooms.addUsers(room.id, ['Cat'])), 'users_not_found', 'rooms_invite nobody: as an unknown name')
  t.equal(await codeOf(bob.rooms.create({ name: 'Trap', participants_display_names: ['Dan'] })), 'users_not_found')
  t.equal(await codeOf(bob.rooms.direct('Dan')), 'users_not_found', 'no direct room with a blocker')
  t.equal((await bob.rooms.direct('Cat')).created, true, 'rooms_invite leaves direct rooms open')

  const shared = await dan.rooms.create({ name: 'Shared', participants_display_names: ['Bob'] })
  const { message } = await bob.messages.send(shared.id, { text: 'hi @Dan', mentions: [id(dan)] })
  t.same(message.mentions, [], 'a blocker is never mentioned by the one they blocked')
  await dan.users.blocks.unblock(id(bob))
  t.same((await bob.messages.send(shared.id, { text: 'hi @Dan' })).message.mentions.map((user) => user.id), [id(dan)], 'unblocked: mentioned again')
})
