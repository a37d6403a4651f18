// Presence and read receipts (issue 18) in the standalone process's app: one
// gateway and the rooms plugin share one tracker over the in-process bus, on
// PGlite, driven through @chat/client.
import t from 'tap'
import WebSocket from 'ws'
import { createChatClient, type ChatClient, type PresenceFrame, type ReadFrame } from '@chat/client'
import { listeningStandalone } from './helper.js'


async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('presence frames, online participants and read receipts on PGlite', async (t) => {
  const { baseUrl } = await listeningStandalone(t, { userRps: 0, realtime: { presenceDebounceMs: 300, presenceTtlMs: 3_000 } })
  const clients: Record<string, ChatClient> = {}
  for (const name of ['Ada', 'Bob', 'Cat']) {
    clients[name] = createChatClient({ baseUrl, WebSocket })
    await clients[name].auth.register({ display_name: name, password: 'long enough' })
  }
  const { Ada: ada, Bob: bob, Cat: cat } = clients as Record<'Ada' | 'Bob' | 'Cat', ChatClient>
  const room = await bob.rooms.create({ name: 'Pair', participants_display_names: ['Ada'] })
  await cat.rooms.create({ name: 'Alone' })

  const bobSocket = bob.connect()
  const catSocket = cat.connect()
  t.teardown(() => {
    bobSocket.close()
    catSocket.close()
  })
  const bobPresence: PresenceFrame[] = []
  const catPresence: PresenceFrame[] = []
  const bobReads: ReadFrame[] = []
  bobSocket.on('presence', (frame) => bobPresence.push(frame))
  catSocket.on('presence', (frame) => catPresence.push(frame))
  bobSocket.on('read', (frame) => bobReads.push(frame))
  bobSocket.subscribe(room.id, { afterSeq: 0 })
  await until(() => bobSocket.state === 'open' && catSocket.state === 'open', 'sockets open')

  const adaParticipant = async () => (await bob.rooms.get(room.id)).participants.find((one) => one.display_name === 'Ada')
  t.equal((await adaParticipant())?.online, false)
  t.equal((await adaParticipant())?.last_seen_at, null)

  const adaSocket = ada.connect()
  await until(() => bobPresence.some((frame) => frame.user.display_name === 'Ada' && frame.online), 'ada online')
  t.equal((await adaParticipant())?.online, true)
  const adaId = ada.session?.user.id ?? ''
  const catId = cat.session?.user.id ?? ''
  const looked = await bob.users.presence([adaId, catId, adaId])
  t.same(looked.map((user) => [user.display_name, user.online]), [['Ada', true]], 'GET /users/?ids=: Ada online; Cat shares no room with Bob and is left out')

  const { message } = await ada.messages.send(room.id, { text: 'hello' })
  await bob.rooms.markRead(room.id, message.seq)
  await until(() => bobReads.length > 0, 'read frame')
  t.same(bobReads.map((frame) => [frame.user.display_name, frame.last_read_seq]), [['Bob', message.seq]])
  t.equal((await ada.rooms.get(room.id)).participants.find((one) => one.display_name === 'Bob')?.last_read_seq, message.seq, 'seen by Bob')

  adaSocket.close()
  await until(() => bobPresence.some((frame) => frame.user.display_name === 'Ada' && !frame.online), 'ada offline')
  // The gateway stores last_seen_at as it tells the others: it may land a moment after the frame.
  await until(async () => typeof (await adaParticipant())?.last_seen_at === 'string', 'last_seen_at stored')
  const gone = await adaParticipant()
  t.equal(gone?.online, false)
  const [adaNow] = await bob.users.presence([adaId])
  t.same([adaNow?.online, adaNow?.last_seen_at], [false, gone?.last_seen_at], 'GET /users/?ids= agrees')
  t.same(catPresence, [], 'Cat shares no room with Ada or Bob')
})
