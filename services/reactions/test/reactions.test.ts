import t from 'tap'
import type { Reaction } from '@chat/contracts'
import { allowedNames, build, isoMs, publicUser, settle, waitFor } from './helper.js'

t.test('a new reaction: 201, the row, and reaction.updated with the room\'s next seq and the counts', async (t) => {
  const { db, events, reactionEvents, createUser, createRoom, createMessage, react, storedReactions, lastSeq } = await build(t)
  const ada = await createUser('Ada')
  const bob = await createUser('Bob')
  const roomId = await createRoom(ada, [bob])
  const messageId = await createMessage(ada, roomId)
  t.equal(await lastSeq(roomId), 1)

  const response = await react(bob, messageId, { reaction: 'like' })
  t.equal(response.statusCode, 201)
  t.match(response.headers['content-type'], /^application\/json/)
  const reaction = response.json<Reaction>()
  t.match(reaction.created_at, isoMs)
  t.same(reaction, { message_id: messageId, user: publicUser(bob), reaction: 'like', created_at: reaction.created_at, updated_at: reaction.created_at })
  t.same(await storedReactions(messageId), { [bob.id]: 'like' })

  await waitFor(() => events.length === 1)
  t.equal(events[0]?.subject, `chat.room.${roomId}.reaction.updated`)
  t.equal(events[0]?.seqHeader, '2')
  t.same(events[0]?.frame, {
    type: 'reaction.updated',
    room_id: roomId,
    seq: 2,
    message_id: messageId,
    user: publicUser(bob),
    reaction: 'like',
    reactions: { like: 1 }
  })
  t.equal(await lastSeq(roomId), 2)
  const stored = await db.selectFrom('room_events').select(['seq', 'type', 'payload']).where('room_id', '=', roomId).where('seq', '=', 2).executeTakeFirstOrThrow()
  t.same(stored, { seq: 2, type: 'reaction.updated', payload: reactionEvents(roomId)[0] }, 'the outbox row holds the frame that was published')
})

t.test('replace: 200, created_at kept; same again: 200, nothing changes and no event', async (t) => {
  const { events, reactionEvents, createUser, createRoom, createMessage, react, storedReactions, lastSeq } = await build(t)
  const ada = await createUser('Ada')
  const bob = await createUser('Bob')
  const roomId = await createRoom(ada, [bob])
  const messageId = await createMessage(ada, roomId)
  t.equal((await react(ada, messageId, { reaction: 'love' })).statusCode, 201)
  const first = (await react(bob, messageId, { reaction: 'love' })).json<Reaction>()

  await new Promise((resolve) => setTimeout(resolve, 5))
  const replaced = await react(bob, messageId, { reaction: 'laugh' })
  t.equal(replaced.statusCode, 200)
  const second = replaced.json<Reaction>()
  t.same(second, { ...first, reaction: 'laugh', updated_at: second.updated_at })
  t.ok(second.updated_at > first.updated_at, 'updated_at moves on a replace')
  t.same(await storedReactions(messageId), { [ada.id]: 'love', [bob.id]: 'laugh' })
  await waitFor(() => events.length === 3)
  t.same(reactionEvents(roomId).map((frame) => [frame.seq, frame.user.id, frame.reaction, frame.reactions]), [
    [2, ada.id, 'love', { love: 1 }],
    [3, bob.id, 'love', { love: 2 }],
    [4, bob.id, 'laugh', { laugh: 1, love: 1 }]
  ])

  const again = await react(bob, messageId, { reaction: 'laugh' })
  t.equal(again.statusCode, 200, 'the same reaction again is a 200')
  t.same(again.json(), second, 'unchanged, updated_at included')
  await settle()
  t.equal(events.length, 3, 'no event for the same reaction again')
  t.equal(await lastSeq(roomId), 4, 'no seq taken')
  t.same(await storedReactions(messageId), { [ada.id]: 'love', [bob.id]: 'laugh' })
})

t.test('remove: 204, the row is gone, reaction.updated with reaction null; none left: 404 reaction_not_found', async (t) => {
  const { events, reactionEvents, createUser, createRoom, createMessage, react, unreact, storedReactions, lastSeq } = await build(t)
  const ada = await createUser('Ada')
  const bob = await createUser('Bob')
  const roomId = await createRoom(ada, [bob])
  const messageId = await createMessage(ada, roomId)
  await react(ada, messageId, { reaction: 'wow' })
  await react(bob, messageId, { reaction: 'wow' })

  const removed = await unreact(bob, messageId)
  t.equal(removed.statusCode, 204)
  t.equal(removed.body, '')
  t.same(await storedReactions(messageId), { [ada.id]: 'wow' })
  await waitFor(() => events.length === 3)
  t.same(reactionEvents(roomId)[2], {
    type: 'reaction.updated',
    room_id: roomId,
    seq: 4,
    message_id: messageId,
    user: publicUser(bob),
    reaction: null,
    reactions: { wow: 1 }
  })

  const none = await unreact(bob, messageId)
  t.equal(none.statusCode, 404)
  t.match(none.headers['content-type'], /^application\/problem\+json/)
  t.match(none.json(), { status: 404, code: 'reaction_not_found' })

  t.equal((await unreact(ada, messageId, { slash: false })).statusCode, 204)
  await waitFor(() => events.length === 4)
  t.same(reactionEvents(roomId)[3]?.reactions, {}, 'the last reaction removed: empty counts')
  t.same(await storedReactions(messageId), {})
  await settle()
  t.equal(events.length, 4, 'the refused delete made no event')
  t.equal(await lastSeq(roomId), 5)
})

t.test('list: every reaction on the message, oldest first, participants only', async (t) => {
  const { createUser, createRoom, createMessage, react, reactions } = await build(t)
  const ada = await createUser('Ada')
  const bob = await createUser('Bob')
  const eve = await createUser('Eve')
  const roomId = await createRoom(ada, [bob])
  const messageId = await createMessage(ada, roomId)
  const other = await createMessage(ada, roomId)
  const empty = await reactions(ada, messageId)
  t.equal(empty.statusCode, 200)
  t.same(empty.json(), [])
  const bobs = (await react(bob, messageId, { reaction: 'sad' })).json<Reaction>()
  await new Promise((resolve) => setTimeout(resolve, 2))
  const adas = (await react(ada, messageId, { reaction: 'angry' })).json<Reaction>()
  await react(ada, other, { reaction: 'like' })
  for (const slash of [true, false]) {
    const list = await reactions(bob, messageId, { slash })
    t.equal(list.statusCode, 200, `slash ${slash}`)
    t.same(list.json(), [bobs, adas], 'only this message, oldest first')
  }
  const outsider = await reactions(eve, messageId)
  t.equal(outsider.statusCode, 403)
  t.equal(outsider.json().code, 'not_a_member')
})

t.test('every path answers with and without its trailing slash', async (t) => {
  const { createUser, createRoom, createMessage, react, unreact, reactions } = await build(t)
  const ada = await createUser('Ada')
  const roomId = await createRoom(ada)
  for (const slash of [true, false]) {
    const messageId = await createMessage(ada, roomId)
    t.equal((await react(ada, messageId, { reaction: 'like' }, { slash })).statusCode, 201, `POST slash ${slash}`)
    t.equal((await react(ada, messageId, { reaction: 'love' }, { slash })).statusCode, 200, `POST replace slash ${slash}`)
    t.equal((await reactions(ada, messageId, { slash })).json().length, 1, `GET slash ${slash}`)
    t.equal((await unreact(ada, messageId, { slash })).statusCode, 204, `DELETE slash ${slash}`)
    t.equal((await unreact(ada, messageId, { slash })).json().code, 'reaction_not_found', `DELETE none slash ${slash}`)
  }
})

t.test('names are exactly those of the list, case-sensitive: anything else is 400 invalid_reaction with allowed', async (t) => {
  const { events, createUser, createRoom, createMessage, react, storedReactions, lastSeq } = await build(t)
  const ada = await createUser('Ada')
  const roomId = await createRoom(ada)
  const messageId = await createMessage(ada, roomId)
  for (const reaction of ['Like', 'LIKE', ' like', 'like ', 'thumbsup', '👍', '', 'x'.repeat(5000), 'a\u0000b', 'a\ud800b']) {
    const response = await react(ada, messageId, { reaction })
    t.equal(response.statusCode, 400, JSON.stringify(reaction.slice(0, 10)))
    t.match(response.headers['content-type'], /^application\/problem\+json/)
    const body = response.json()
    t.equal(body.code, 'invalid_reaction')
    t.same(body.allowed, allowedNames, 'allowed lists the names of reaction_list.json, in its order')
    t.same(body.errors, [{ path: '/reaction', message: 'must be one of the names of GET /emoji/' }])
  }
  for (const reaction of allowedNames) {
    const response = await react(ada, messageId, { reaction })
    t.equal(response.statusCode, reaction === 'like' ? 201 : 200, reaction)
    t.equal(response.json().reaction, reaction)
  }
  t.same(await storedReactions(messageId), { [ada.id]: 'angry' })
  await waitFor(() => events.length === allowedNames.length)
  t.equal(await lastSeq(roomId), 1 + allowedNames.length, 'refused names took no seq')
})

t.test('bodies are validated strictly: 400 validation_failed, never a 500', async (t) => {
  const { app, events, createUser, createRoom, createMessage, react, unreact, reactions, lastSeq } = await build(t)
  const ada = await createUser('Ada')
  const roomId = await createRoom(ada)
  const messageId = await createMessage(ada, roomId)
  for (const [label, body, path] of [
    ['no reaction', {}, '/reaction'],
    ['a number', { reaction: 5 }, '/reaction'],
    ['null', { reaction: null }, '/reaction'],
    ['an extra member', { reaction: 'like', also: 'love' }, '/also'],
    ['an extra member and a bad name', { reaction: 'nope', also: 1 }, '/also'],
    ['an array', [{ reaction: 'like' }], '/']
  ] as const) {
    const response = await react(ada, messageId, body)
    t.equal(response.statusCode, 400, label)
    t.equal(response.json().code, 'validation_failed', label)
    t.ok(response.json().errors.some((issue: { path: string }) => issue.path === path), `${label}: ${JSON.stringify(response.json().errors)}`)
  }
  const notJson = await app.inject({
    method: 'POST',
    url: `/messages/${messageId}/reaction/`,
    headers: { authorization: `Bearer ${ada.token}`, 'content-type': 'application/json' },
    payload: '{"reaction":'
  })
  t.equal(notJson.statusCode, 400)
  t.equal(notJson.json().code, 'invalid_json')
  const text = await app.inject({
    method: 'POST',
    url: `/messages/${messageId}/reaction/`,
    headers: { authorization: `Bearer ${ada.token}`, 'content-type': 'text/plain' },
    payload: 'like'
  })
  t.equal(text.statusCode, 415)
  for (const id of ['not-a-uuid', '123', '00000000-0000-0000-0000-00000000000g']) {
    for (const [method, request] of [
      ['POST', () => react(ada, id, { reaction: 'like' })],
      ['DELETE', () => unreact(ada, id)],
      ['GET', () => reactions(ada, id)]
    ] as const) {
      const response = await request()
      t.equal(response.statusCode, 400, `${method} ${id}`)
      t.equal(response.json().code, 'validation_failed')
      t.same(response.json().errors.map((issue: { path: string }) => issue.path), ['/message_id'])
    }
  }
  await settle()
  t.equal(events.length, 0)
  t.equal(await lastSeq(roomId), 1)
})

t.test("api.md's order of checks: 401, message exists (404), participant (403), deleted (404), then the operation's rules", async (t) => {
  const { app, events, createUser, createRoom, createMessage, deleteMessage, react, unreact, reactions, storedReactions, lastSeq } = await build(t)
  const ada = await createUser('Ada')
  const bob = await createUser('Bob')
  const eve = await createUser('Eve')
  const roomId = await createRoom(ada, [bob])
  const messageId = await createMessage(ada, roomId)
  const deletedId = await createMessage(ada, roomId)
  t.equal((await react(bob, deletedId, { reaction: 'like' })).statusCode, 201, 'a reaction before the delete')
  await deleteMessage(deletedId)
  const unknownId = '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f'
  const seqBefore = await lastSeq(roomId)
  await waitFor(() => events.length === 1)

  const operations = [
    ['POST', (user: typeof ada | undefined, id: string) => react(user, id, { reaction: 'like' })],
    ['POST with a bad name', (user: typeof ada | undefined, id: string) => react(user, id, { reaction: 'Like' })],
    ['DELETE', (user: typeof ada | undefined, id: string) => unreact(user, id)],
    ['GET', (user: typeof ada | undefined, id: string) => reactions(user, id)]
  ] as const
  for (const [label, request] of operations) {
    const noToken = await request(undefined, messageId)
    t.equal(noToken.statusCode, 401, `${label} without a token`)
    t.equal(noToken.json().code, 'unauthenticated')
    const badToken = await app.inject({ method: 'GET', url: `/messages/${messageId}/reaction/`, headers: { authorization: 'Bearer nope' } })
    t.equal(badToken.statusCode, 401)
    const unknown = await request(ada, unknownId)
    t.equal(unknown.statusCode, 404, `${label} unknown message`)
    t.equal(unknown.json().code, 'message_not_found')
    const outsider = await request(eve, messageId)
    t.equal(outsider.statusCode, 403, `${label} outsider`)
    t.equal(outsider.json().code, 'not_a_member')
    const outsiderDeleted = await request(eve, deletedId)
    t.equal(outsiderDeleted.statusCode, 403, `${label} outsider, deleted message: learns nothing of the delete`)
    t.equal(outsiderDeleted.json().code, 'not_a_member')
    const deleted = await request(bob, deletedId)
    t.equal(deleted.statusCode, 404, `${label} deleted message`)
    t.equal(deleted.json().code, 'message_not_found')
  }
  const outsiderDelete = await unreact(eve, messageId)
  t.equal(outsiderDelete.json().code, 'not_a_member', 'an outsider without a reaction: 403, not reaction_not_found')
  t.same(await storedReactions(deletedId), { [bob.id]: 'like' }, 'the reaction on the deleted message was not touched')
  t.same(await storedReactions(messageId), {})
  await settle()
  t.equal(events.length, 1, 'refused requests publish nothing')
  t.equal(await lastSeq(roomId), seqBefore, 'and take no seq')
})

t.test('a reaction on a message of another room does not leak into this room', async (t) => {
  const { reactionEvents, createUser, createRoom, createMessage, react, events } = await build(t)
  const ada = await createUser('Ada')
  const bob = await createUser('Bob')
  const first = await createRoom(ada, [bob])
  const second = await createRoom(bob)
  const inSecond = await createMessage(bob, second)
  t.equal((await react(ada, inSecond, { reaction: 'like' })).statusCode, 403, 'Ada is outside the second room')
  t.equal((await react(bob, inSecond, { reaction: 'like' })).statusCode, 201)
  await waitFor(() => events.length === 1)
  t.same(reactionEvents(first), [])
  t.equal(reactionEvents(second)[0]?.seq, 2, 'the event took the seq of the message\'s own room')
})
