// Replies, threads and mentions in the services mode, through the nginx
// gateway: a reply sent as a socket frame (gateway -> svc.messages.send ->
// messages), its mention reaching the mentioned user's /ws/ socket on any
// replica over NATS with the shipped permissions (chat.user.*.mention), the
// thread page and unread_mentions.
import t from 'tap'
import { WebSocket } from 'ws'
import { createChatClient, type ChatClient, type MentionFrame, type Session } from '@chat/client'
import { startServicesMode } from './helper.js'

const password = 'correct horse battery'

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

await t.test('a reply with a mention through the gateway: the mention frame on both replicas, the thread, unread_mentions', async (t) => {
  // Its own NATS server: another messages service may serve svc.messages.send on the shared one.
  const mode = await startServicesMode(t, { nats: 'private' })
  if (!mode) return
  const gateway = mode.gatewayUrl
  if (!gateway) throw new Error('the services mode runs without its gateway')
  const replicas = mode.services.filter((service) => service.name.startsWith('realtime-'))
  const client = (baseUrl = gateway, session?: Session | null): ChatClient =>
    createChatClient({ baseUrl, WebSocket, session })
  const ada = client()
  const bob = client()
  await ada.auth.register({ display_name: 'Ada Lovelace', password })
  const bobSession = await bob.auth.register({ display_name: 'Bob', password })
  const room = await ada.rooms.create({ name: 'Threads', participants_display_names: ['Bob'] })
  const root = (await bob.messages.send(room.id, { text: 'root' })).message

  // Bob's sockets, one on each replica, subscribed to nothing.
  const notices: MentionFrame[][] = []
  for (const replica of replicas) {
    const socket = client(replica.url, bobSession).connect()
    t.teardown(() => socket.close())
    const seen: MentionFrame[] = []
    notices.push(seen)
    socket.on('mention', (frame) => seen.push(frame))
    await waitFor(() => socket.state === 'open', 'the socket open')
    // Answered only after the gateway set up the socket's notices.
    await socket.ping()
  }
  const adaSocket = ada.connect({ roomId: room.id })
  t.teardown(() => adaSocket.close())
  const reply = await adaSocket.sendMessage(room.id, 'agreed, @bob', { replyTo: root.id })
  t.match(reply, { reply_to: root.id, mentions: [{ id: bobSession.user.id }] }, 'stored by the messages service over svc.messages.send')
  await waitFor(() => notices.every((seen) => seen.length === 1), 'the mention on every replica')
  for (const seen of notices) t.same(seen[0], { type: 'mention', room_id: room.id, message: reply })

  const thread = await bob.messages.thread(room.id, root.id)
  t.same(thread.messages.map((message) => message.id), [reply.id])
  t.equal((await bob.messages.list(room.id)).messages[0]?.reply_count, 1)
  const listed = (await bob.rooms.list()).rooms.find((each) => each.id === room.id)
  t.equal(listed?.unread_mentions, 1)
})
