import t from 'tap'
import type { Message } from '@chat/contracts'
import { mentionTokens, maxMentionTokens } from '../src/mentions.js'
import { bearer, build, publicUser, waitFor } from './helper.js'

t.test('mentionTokens: per @, the keys it could name, longest first', async (t) => {
  t.same(mentionTokens('hi @Ada!'), [['ada!', 'ada']])
  t.same(mentionTokens('@Ada Lovelace, hi'), [['ada lovelace, hi', 'ada lovelace,', 'ada lovelace', 'ada']])
  t.same(mentionTokens('ask @"Ada Lovelace" now'), [['ada lovelace']], 'a quoted name is exactly that name')
  t.same(mentionTokens('mail ada@example.com'), [], 'an @ inside a word starts nothing')
  t.same(mentionTokens('@ÉVA\nnext line'), [['éva']], 'never over a line break; keys are NFC lower case')
  t.same(mentionTokens('@"" and @"unclosed'), [], 'empty or unclosed quotes name nobody')
  t.same(mentionTokens('@😀x'), [['😀x']], 'a surrogate pair is never split')
  t.equal(mentionTokens('@a '.repeat(200)).length, maxMentionTokens, 'a bounded number of tokens')
})

t.test('mentions: @name, case-insensitive, longest match, quoted names, client ids checked; never the sender, never an outsider', async (t) => {
  const { app, db, bus, events, createUser, createRoom, send } = await build(t)
  const ada = await createUser('Ada')
  const adam = await createUser('Adam')
  const lovelace = await createUser('Ada Lovelace')
  const bob = await createUser('Bob')
  const eve = await createUser('Eve')
  const roomId = await createRoom(bob, [ada, adam, lovelace])
  const notices: Array<{ subject: string; frame: { type: string; room_id: string; message: Message } }> = []
  await bus.subscribe('chat.user.*.mention', (message) => {
    notices.push({ subject: message.subject, frame: JSON.parse(Buffer.from(message.data).toString('utf8')) as never })
  })

  const first = (await send(bob, roomId, { text: 'hey @ADAM and @ada, and @"Ada Lovelace" - @eve @bob' })).json<Message>()
  t.same(first.mentions, [publicUser(ada), publicUser(lovelace), publicUser(adam)], 'sorted by name; @eve is no participant, @bob is the sender')
  await waitFor(() => events.length === 1)
  t.same((events[0]?.frame as { message?: Message }).message?.mentions, first.mentions, 'the event carries them')

  const longest = (await send(bob, roomId, { text: '@Ada Lovelace, see this' })).json<Message>()
  t.same(longest.mentions, [publicUser(lovelace)], 'the longest name that a participant has')

  const byId = await send(bob, roomId, { text: 'no tokens', mentions: [adam.id, eve.id] })
  t.equal(byId.statusCode, 201)
  t.same(byId.json<Message>().mentions, [publicUser(adam)], 'client ids are kept only for participants')
  t.equal((await send(bob, roomId, { text: 'x', mentions: ['nope'] })).statusCode, 400)

  await waitFor(() => notices.length === 5)
  t.same(notices.map((notice) => notice.subject).sort(), [
    `chat.user.${ada.id}.mention`, `chat.user.${adam.id}.mention`, `chat.user.${adam.id}.mention`, `chat.user.${lovelace.id}.mention`, `chat.user.${lovelace.id}.mention`
  ].sort())
  t.same(notices[0]?.frame, { type: 'mention', room_id: roomId, message: first }, 'the frame: room and message')

  const list = (await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bearer(ada) })).json<Message[]>()
  t.same(list.map((message) => message.mentions.length), [3, 1, 1], 'listed with their mentions')
  const rows = await db.selectFrom('message_mentions').select(['user_id', 'seq']).where('room_id', '=', roomId).orderBy('seq').execute()
  t.equal(rows.length, 5)
})

t.test('an edit reads mentions again and tells only the newly mentioned; a delete drops them', async (t) => {
  const { app, db, bus, createUser, createRoom, send } = await build(t)
  const ada = await createUser('Ada')
  const bob = await createUser('Bob')
  const cyd = await createUser('Cyd')
  const roomId = await createRoom(bob, [ada, cyd])
  const notified: string[] = []
  await bus.subscribe('chat.user.*.mention', (message) => { notified.push(message.subject.split('.')[2]!) })
  const message = (await send(bob, roomId, { text: 'hi @Ada' })).json<Message>()
  await waitFor(() => notified.length === 1)

  const edited = await app.inject({ method: 'PATCH', url: `/messages/${roomId}/${message.id}/`, headers: bearer(bob), payload: { text: 'hi @Ada and @Cyd' } })
  t.equal(edited.statusCode, 200)
  t.same(edited.json<Message>().mentions, [publicUser(ada), publicUser(cyd)])
  await waitFor(() => notified.length === 2)
  t.same(notified, [ada.id, cyd.id], 'Ada was mentioned before: no second notice')

  const dropped = await app.inject({ method: 'PATCH', url: `/messages/${roomId}/${message.id}/`, headers: bearer(bob), payload: { text: 'hi all', mentions: [cyd.id] } })
  t.same(dropped.json<Message>().mentions, [publicUser(cyd)], 'the edit\'s text and ids decide')

  await app.inject({ method: 'DELETE', url: `/messages/${roomId}/${message.id}/`, headers: bearer(bob) })
  t.same(await db.selectFrom('message_mentions').select('user_id').where('message_id', '=', message.id).execute(), [])
  const list = (await app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bearer(ada) })).json<Message[]>()
  t.same(list[0]?.mentions, [], 'a tombstone mentions nobody')
})

t.test('a user who blocked the sender is never mentioned by them (by name or id, sent or edited): the mention is dropped, the text stays', async (t) => {
  const { app, db, bus, createUser, createRoom, send } = await build(t)
  const ada = await createUser('Ada')
  const bob = await createUser('Bob')
  const cyd = await createUser('Cyd')
  const roomId = await createRoom(bob, [ada, cyd])
  await db.insertInto('user_blocks').values({ blocker_id: ada.id, blocked_id: bob.id }).execute()
  const notified: string[] = []
  await bus.subscribe('chat.user.*.mention', (message) => { notified.push(message.subject.split('.')[2]!) })

  const sent = (await send(bob, roomId, { text: 'hi @Ada and @Cyd', mentions: [ada.id] })).json<Message>()
  t.equal(sent.text, 'hi @Ada and @Cyd')
  t.same(sent.mentions, [publicUser(cyd)], 'Ada blocked Bob: only Cyd')
  const edited = await app.inject({ method: 'PATCH', url: `/messages/${roomId}/${sent.id}/`, headers: bearer(bob), payload: { text: '@"Ada" again', mentions: [ada.id] } })
  t.same(edited.json<Message>().mentions, [], 'nor by an edit')
  const byCyd = (await send(cyd, roomId, { text: '@Ada hi' })).json<Message>()
  t.same(byCyd.mentions, [publicUser(ada)], 'others still mention her')
  const byAda = (await send(ada, roomId, { text: '@Bob hi' })).json<Message>()
  t.same(byAda.mentions, [publicUser(bob)], 'the blocker may mention the one they blocked')
  await waitFor(() => notified.length === 3)
  t.same(notified, [cyd.id, ada.id, bob.id], 'no notice to Ada from Bob')
  t.same(
    (await db.selectFrom('message_mentions').select('user_id').where('message_id', '=', sent.id).execute()).length,
    0,
    'the edit left nothing stored either'
  )
})
