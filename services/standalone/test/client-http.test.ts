// The HTTP half of @chat/client against the real standalone app, listening
// on a free port. Reactions and sockets are not covered here (see
// packages/client/test for the socket against scripted peers).
import type { AddressInfo } from 'node:net'
import t from 'tap'
import sharp from 'sharp'
import { createInProcessBus } from '@chat/bus'
import { ChatApiError, createChatClient, type Session } from '@chat/client'
import { createTestDatabase } from '@chat/db/testing'
import { createTokenSigner, generateSigningKey } from '@chat/service-kit'
import { buildStandaloneApp } from '../src/app.js'

const password = 'long enough'
const unknownRoomId = '0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f'

async function startServer(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const { db } = await createTestDatabase(t)
  const bus = createInProcessBus()
  const app = await buildStandaloneApp({ db, bus, signer: createTokenSigner(generateSigningKey(), 900) }, { logger: false, userRps: 0 })
  t.teardown(async () => {
    await app.close()
    await bus.close()
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

async function failure(promise: Promise<unknown>): Promise<ChatApiError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ChatApiError) return error
    throw error
  }
  throw new Error('expected a ChatApiError, the call succeeded')
}

t.test('@chat/client over HTTP against the standalone app', async (t) => {
  const baseUrl = await startServer(t)
  const sessions: Array<Session | null> = []
  const ada = createChatClient({ baseUrl, onSessionChange: (session) => sessions.push(session) })
  const bob = createChatClient({ baseUrl })
  const cy = createChatClient({ baseUrl })

  await t.test('auth: register, login, refresh, logout', async (t) => {
    const registered = await ada.auth.register({ display_name: 'Ada', password })
    t.match(registered, { user: { display_name: 'Ada' }, token_type: 'Bearer', access_token: String, refresh_token: String })
    t.equal(ada.session, registered)
    await bob.auth.register({ display_name: 'Bob', password })
    await cy.auth.register({ display_name: 'Cy "the <b>"', password })
    t.match(await failure(bob.auth.register({ display_name: 'bob', password })), { status: 409, code: 'display_name_taken' })
    t.match(await failure(bob.auth.login({ display_name: 'Bob', password: 'wrong password' })), { status: 401, code: 'invalid_credentials' })

    const other = createChatClient({ baseUrl })
    const login = await other.auth.login({ display_name: 'ADA', password })
    t.equal(login.user.id, registered.user.id, 'display names are case-insensitive')

    const refreshed = await ada.auth.refresh()
    t.not(refreshed.refresh_token, registered.refresh_token, 'rotated')
    t.equal(ada.session?.refresh_token, refreshed.refresh_token)
    t.equal(sessions.length, 2)

    // A stale access token with a good refresh token: one 401, one refresh, one retry.
    const stale = createChatClient({ baseUrl, session: { ...login, access_token: 'not-a-jwt' } })
    t.equal((await stale.users.me()).display_name, 'Ada')
    t.not(stale.session?.access_token, 'not-a-jwt')

    await other.auth.logout()
    t.equal(other.session, null)
    const loggedOut = createChatClient({ baseUrl, session: login })
    t.match(await failure(loggedOut.auth.refresh()), { status: 401 })
    t.equal(loggedOut.session, null, 'a refused refresh ends the session')
  })

  await t.test('users', async (t) => {
    const me = await ada.users.me()
    t.equal(me.display_name, 'Ada')
    t.same((await ada.users.search('b', { limit: 5 })).map((user) => user.display_name), ['Bob'])
    t.same((await ada.users.search('cy "the <')).map((user) => user.display_name), ['Cy "the <b>"'], 'query values encoded')
    t.same(await ada.users.search('%'), [], '% taken literally')
  })

  let roomId = ''
  await t.test('rooms: create, get, rename, add users, list pages, read, leave', async (t) => {
    const room = await ada.rooms.create({ name: 'Tea', participants_display_names: ['bob'] })
    roomId = room.id
    t.same(room.participants.map((participant) => [participant.display_name, participant.role]), [['Ada', 'owner'], ['Bob', 'member']])
    t.match(await failure(ada.rooms.create({ name: 'X', participants_display_names: ['Nobody'] })), { status: 400, code: 'users_not_found', notFound: ['Nobody'] })
    t.equal((await bob.rooms.get(roomId)).name, 'Tea')
    t.match(await failure(bob.rooms.rename(roomId, 'Mine')), { status: 403, code: 'admin_required' }, 'a member renames nothing')
    t.equal((await ada.rooms.rename(roomId, 'Tea & cake')).name, 'Tea & cake', 'the owner renames')
    const added = await ada.rooms.addUsers(roomId, ['Cy "the <b>"'])
    t.equal(added.participants.length, 3)

    for (const name of ['One', 'Two', 'Three']) await ada.rooms.create({ name })
    const seen: string[] = []
    let page = await ada.rooms.list({ limit: 3 })
    seen.push(...page.rooms.map((each) => each.name))
    t.equal(page.rooms.length, 3)
    t.type(page.next, 'string')
    page = await ada.rooms.list({ limit: 3, cursor: page.next })
    seen.push(...page.rooms.map((each) => each.name))
    t.equal(page.next, undefined, 'the last page has no next')
    t.same(seen.sort(), ['One', 'Tea & cake', 'Three', 'Two'])

    const read = await bob.rooms.markRead(roomId, 1)
    t.same(read, { last_read_seq: 1, unread_count: 0, unread_mentions: 0 })

    await cy.rooms.leave(roomId)
    t.match(await failure(cy.rooms.get(roomId)), { status: 403, code: 'not_a_member' })
    t.equal((await ada.rooms.get(roomId)).participants.length, 2)
  })

  await t.test('avatar: upload, fetch, 304, remove', async (t) => {
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#336699' } }).png().toBuffer()
    const avatar = await ada.rooms.avatar.upload(roomId, new Uint8Array(png), 'room.png')
    t.match(avatar, { room_id: roomId, content_type: 'image/webp', width: 512, height: 384, etag: String })
    const fetched = await bob.rooms.avatar.fetch(roomId)
    if (fetched.notModified) throw new Error('expected the image')
    t.equal(fetched.contentType, 'image/webp')
    t.equal(fetched.bytes.length, avatar.size)
    t.equal(fetched.etag, avatar.etag)
    t.equal((await sharp(fetched.bytes).metadata()).format, 'webp')
    t.same(await bob.rooms.avatar.fetch(roomId, { etag: avatar.etag }), { notModified: true, etag: avatar.etag })
    const viaUrl = await fetch(ada.rooms.avatar.url(roomId), { headers: { authorization: `Bearer ${ada.session?.access_token}` } })
    t.equal(viaUrl.status, 200)
    await viaUrl.body?.cancel()
    t.match(await failure(ada.rooms.avatar.upload(roomId, new Blob(['not an image']))), { status: 415, code: 'unsupported_media_type' })
    await ada.rooms.avatar.remove(roomId)
    t.match(await failure(ada.rooms.avatar.fetch(roomId)), { status: 404, code: 'avatar_not_set' })
    t.equal((await ada.rooms.get(roomId)).avatar_url, null)
  })

  await t.test('messages: send 201 then 200, pages, edit, delete', async (t) => {
    const first = await ada.messages.send(roomId, { text: ' hello <b>there</b> ', client_msg_id: 'c-1' })
    t.equal(first.created, true)
    t.equal(first.message.text, ' hello <b>there</b> ')
    const again = await ada.messages.send(roomId, { text: ' hello <b>there</b> ', client_msg_id: 'c-1' })
    t.equal(again.created, false)
    t.equal(again.message.id, first.message.id)
    const seqs = [first.message.seq]
    for (let index = 2; index <= 5; index += 1) seqs.push((await bob.messages.send(roomId, { text: `m${index}` })).message.seq)

    const latest = await ada.messages.list(roomId, { limit: 2 })
    t.same(latest.messages.map((message) => message.seq), seqs.slice(3))
    t.equal(latest.next, undefined)
    t.ok(latest.prev)
    const older = await ada.messages.list(roomId, latest.prev)
    t.same(older.messages.map((message) => message.seq), seqs.slice(1, 3))
    t.ok(older.next)
    const newer = await ada.messages.list(roomId, { after_seq: seqs[0], limit: 3 })
    t.same(newer.messages.map((message) => message.seq), seqs.slice(1, 4))

    const edited = await ada.messages.edit(roomId, first.message.id, 'edited')
    t.equal(edited.text, 'edited')
    t.type(edited.edited_at, 'string')
    t.match(await failure(bob.messages.edit(roomId, first.message.id, 'mine now')), { status: 403, code: 'not_sender' })
    await ada.messages.delete(roomId, first.message.id)
    const all = await ada.messages.list(roomId, { limit: 200 })
    t.match(all.messages.find((message) => message.id === first.message.id), { deleted: true, text: '' })
  })

  await t.test('threads and mentions: reply_to, mentions, thread pages, edits, unread_mentions', async (t) => {
    const root = (await bob.messages.send(roomId, { text: 'root' })).message
    const reply = await ada.messages.send(roomId, { text: 'agreed @bob', reply_to: root.id })
    t.match(reply.message, { reply_to: root.id, mentions: [{ display_name: 'Bob' }] })
    for (let index = 2; index <= 3; index += 1) await bob.messages.send(roomId, { text: `r${index}`, reply_to: root.id })
    const latest = await ada.messages.thread(roomId, root.id, { limit: 2 })
    t.same(latest.messages.map((message) => message.text), ['r2', 'r3'])
    t.ok(latest.prev, 'older replies exist')
    const older = await ada.messages.thread(roomId, root.id, latest.prev)
    t.same(older.messages.map((message) => message.text), ['agreed @bob'])
    t.equal(older.prev, undefined)
    t.equal((await bob.rooms.list()).rooms.find((room) => room.id === roomId)?.unread_mentions, 1)
    const bobId = (await bob.users.me()).id
    const edited = await ada.messages.edit(roomId, reply.message.id, 'agreed', { mentions: [bobId] })
    t.same(edited.mentions.map((user) => user.id), [bobId], 'edit mentions by id')
    t.match(await failure(ada.messages.send(roomId, { text: 'x', reply_to: unknownRoomId })), { status: 404, code: 'reply_to_not_found' })
    t.match(await failure(ada.messages.thread(roomId, unknownRoomId)), { status: 404, code: 'message_not_found' })
  })

  await t.test('errors from the real server: 400, 401, 403, 404', async (t) => {
    const blank = await failure(ada.messages.send(roomId, { text: '   ' }))
    t.match(blank, { status: 400, code: 'validation_failed', errors: [{ path: String, message: String }] })
    t.match(await failure(ada.messages.list(roomId, { limit: 500 })), { status: 400, code: 'validation_failed' })
    t.match(await failure(ada.rooms.create({ name: '' })), { status: 400, errors: [{ path: '/name' }] })
    const anonymous = createChatClient({ baseUrl })
    t.match(await failure(anonymous.users.me()), { status: 401, code: 'unauthenticated', title: String })
    t.match(await failure(cy.messages.list(roomId)), { status: 403, code: 'not_a_member' })
    t.match(await failure(ada.rooms.get(unknownRoomId)), { status: 404, code: 'room_not_found' })
    t.match(await failure(ada.messages.edit(roomId, unknownRoomId, 'x')), { status: 404, code: 'message_not_found' })
  })
})
