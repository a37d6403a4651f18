import t from 'tap'
import type { IncomingMessage } from 'node:http'
import { ChatApiError, ChatNetworkError, createChatClient, parseLinkHeader, retryAfterSeconds } from '../src/index.js'
import { delay, messageFrame, roomA, sendJson, sendProblem, session, startPeer } from './helpers.js'

interface Seen {
  method: string
  url: string
  authorization: string | undefined
  contentType: string | undefined
  body: Buffer
}

function record(list: Seen[], request: IncomingMessage, body: Buffer): Seen {
  const seen = {
    method: request.method ?? '',
    url: request.url ?? '',
    authorization: request.headers.authorization,
    contentType: request.headers['content-type'],
    body
  }
  list.push(seen)
  return seen
}

t.test('concurrent 401s share one refresh, then every call is retried with the new token', async (t) => {
  const seen: Seen[] = []
  const peer = await startPeer(t, {
    http: (request, response, body) => {
      record(seen, request, body)
      if (request.url === '/auth/refresh/') {
        // Slow enough for all three 401s to arrive while it runs.
        setTimeout(() => sendJson(response, 200, session('token-2')), 50)
        return
      }
      if (request.headers.authorization !== 'Bearer token-2') return sendProblem(response, 401, 'unauthenticated')
      sendJson(response, 200, session('token-2').user)
    }
  })
  const changes: Array<string | null> = []
  const client = createChatClient({ baseUrl: peer.baseUrl, session: session('token-1'), onSessionChange: (next) => changes.push(next?.access_token ?? null) })
  const users = await Promise.all([client.users.me(), client.users.me(), client.users.me()])
  t.equal(users.length, 3)
  t.equal(seen.filter((request) => request.url === '/auth/refresh/').length, 1, 'one refresh')
  t.same(JSON.parse(String(seen.find((request) => request.url === '/auth/refresh/')?.body)), { refresh_token: 'refresh-of-token-1' })
  t.same(changes, ['token-2'])
  t.equal(seen.filter((request) => request.authorization === 'Bearer token-2').length, 3)
  t.equal(seen.find((request) => request.url === '/auth/refresh/')?.authorization, undefined, 'refresh carries no bearer')
})

t.test('a refused refresh clears the session and the call fails with the original 401', async (t) => {
  let refreshes = 0
  const peer = await startPeer(t, {
    http: (request, response) => {
      if (request.url === '/auth/refresh/') {
        refreshes += 1
        return sendProblem(response, 401, 'invalid_refresh_token')
      }
      sendProblem(response, 401, 'unauthenticated')
    }
  })
  const changes: Array<string | null> = []
  const client = createChatClient({ baseUrl: peer.baseUrl, session: session('token-1'), onSessionChange: (next) => changes.push(next?.access_token ?? null) })
  await t.rejects(client.rooms.get(roomA), { name: 'ChatApiError', status: 401, code: 'unauthenticated' })
  t.equal(client.session, null)
  t.same(changes, [null])
  await t.rejects(client.rooms.get(roomA), { name: 'ChatApiError', status: 401 }, 'without a session: no refresh at all')
  t.equal(refreshes, 1)
})

t.test('a refresh that fails for a passing reason (503, 429) keeps the session for a later try', async (t) => {
  let refreshes = 0
  const peer = await startPeer(t, {
    http: (request, response) => {
      if (request.url === '/auth/refresh/') {
        refreshes += 1
        return refreshes === 1 ? sendProblem(response, 503, 'unavailable', {}, { 'retry-after': '1' }) : sendProblem(response, 429, 'rate_limited')
      }
      sendProblem(response, 401, 'unauthenticated')
    }
  })
  const changes: Array<string | null> = []
  const client = createChatClient({ baseUrl: peer.baseUrl, session: session('token-1'), onSessionChange: (next) => changes.push(next?.access_token ?? null) })
  await t.rejects(client.rooms.get(roomA), { name: 'ChatApiError', status: 401 }, 'the call fails with its own 401')
  t.equal(client.session?.access_token, 'token-1', 'an identity outage does not log the user out')
  await t.rejects(client.rooms.get(roomA), { name: 'ChatApiError', status: 401 })
  t.equal(client.session?.access_token, 'token-1', 'nor does a rate limit')
  t.same(changes, [])
  t.equal(refreshes, 2)
})

t.test('problem details become ChatApiError with code, errors, not_found, allowed and Retry-After', async (t) => {
  const peer = await startPeer(t, {
    http: (request, response) => {
      switch (request.url) {
        case '/chatrooms/':
          return sendProblem(response, 400, 'users_not_found', { not_found: ['Zed'] })
        case `/messages/${roomA}/`:
          return sendProblem(response, 400, 'validation_failed', { errors: [{ path: '/text', message: 'must not be blank' }] })
        case '/messages/m1/reaction/':
          return sendProblem(response, 400, 'invalid_reaction', { allowed: ['like', 'love'] })
        case '/users/me/':
          return sendProblem(response, 429, 'rate_limited', {}, { 'retry-after': '7' })
        default:
          response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>')
      }
    }
  })
  const client = createChatClient({ baseUrl: peer.baseUrl, session: session('token-1') })
  const notFound = await client.rooms.create({ name: 'Tea', participants_display_names: ['Zed'] }).catch((error: unknown) => error)
  t.ok(notFound instanceof ChatApiError)
  t.match(notFound, { status: 400, code: 'users_not_found', notFound: ['Zed'], title: 'users_not_found', detail: 'detail of users_not_found' })
  t.match(await client.messages.send(roomA, { text: ' ' }).catch((error: unknown) => error), {
    code: 'validation_failed',
    errors: [{ path: '/text', message: 'must not be blank' }],
    problem: { status: 400, type: 'about:blank' }
  })
  t.match(await client.reactions.set('m1', 'nope').catch((error: unknown) => error), { code: 'invalid_reaction', allowed: ['like', 'love'] })
  t.match(await client.users.me().catch((error: unknown) => error), { status: 429, code: 'rate_limited', retryAfter: 7 })
  const proxy = await client.emoji().catch((error: unknown) => error)
  t.match(proxy, { status: 502, code: 'http_502', problem: undefined })
})

t.test('a network failure is a ChatNetworkError', async (t) => {
  const peer = await startPeer(t)
  const baseUrl = peer.baseUrl
  await new Promise((resolve) => peer.server.close(resolve))
  const client = createChatClient({ baseUrl, session: session('token-1') })
  const error = await client.users.me().catch((caught: unknown) => caught)
  t.ok(error instanceof ChatNetworkError, String(error))
  t.notOk(error instanceof ChatApiError)
})

t.test('paths keep their trailing slash, query values are encoded, bodies are JSON', async (t) => {
  const seen: Seen[] = []
  const peer = await startPeer(t, {
    http: (request, response, body) => {
      const got = record(seen, request, body)
      if (got.url.startsWith('/auth/')) return got.url === '/auth/logout/' ? response.writeHead(204).end() : sendJson(response, got.url === '/auth/register/' ? 201 : 200, session('token-9'))
      if (request.method === 'DELETE') return response.writeHead(204).end()
      if (got.url.endsWith('/read/')) return sendJson(response, 200, { last_read_seq: 4, unread_count: 0 })
      sendJson(response, 200, [])
    }
  })
  const changes: Array<string | null> = []
  const client = createChatClient({ baseUrl: `${peer.baseUrl}/`, onSessionChange: (next) => changes.push(next?.access_token ?? null) })
  await client.auth.register({ display_name: 'Ada', password: 'long enough' })
  await client.auth.login({ display_name: 'Ada', password: 'long enough' })
  await client.users.search('a&b %_\\é', { limit: 5 })
  await client.rooms.addUsers(roomA, ['Bob'])
  await client.rooms.rename(roomA, 'New')
  t.same(await client.rooms.markRead(roomA, 4), { last_read_seq: 4, unread_count: 0 })
  await client.rooms.leave(roomA)
  await client.messages.edit(roomA, 'm/1', 'x')
  await client.messages.delete(roomA, 'm1')
  await client.reactions.remove('m1')
  await client.auth.logout()
  t.same(
    seen.map((request) => `${request.method} ${request.url}`),
    [
      'POST /auth/register/',
      'POST /auth/login/',
      'GET /users/?search=a%26b+%25_%5C%C3%A9&limit=5',
      `POST /chatrooms/${roomA}/add_user/`,
      `PATCH /chatrooms/${roomA}/`,
      `PUT /chatrooms/${roomA}/read/`,
      `DELETE /chatrooms/${roomA}/participants/me/`,
      `PATCH /messages/${roomA}/m%2F1/`,
      `DELETE /messages/${roomA}/m1/`,
      'DELETE /messages/m1/reaction/',
      'POST /auth/logout/'
    ]
  )
  const search = new URL(seen[2]?.url ?? '', 'http://x').searchParams.get('search')
  t.equal(search, 'a&b %_\\é')
  t.same(JSON.parse(String(seen[3]?.body)), { user_display_names: ['Bob'] })
  t.same(JSON.parse(String(seen[4]?.body)), { name: 'New' })
  t.same(JSON.parse(String(seen[10]?.body)), { refresh_token: 'refresh-of-token-9' })
  t.equal(seen[10]?.authorization, 'Bearer token-9')
  t.equal(seen[0]?.contentType, 'application/json')
  t.same(changes, ['token-9', 'token-9', null])
})

t.test('Link headers give the next rooms cursor and the prev/next message pages', async (t) => {
  const peer = await startPeer(t, {
    http: (request, response) => {
      const url = new URL(request.url ?? '', 'http://x')
      if (url.pathname === '/chatrooms/') {
        const link: Record<string, string> = url.searchParams.get('before') === null ? { link: '</chatrooms/?limit=2&before=MjAyNi0x%2BYQ>; rel="next"' } : {}
        return sendJson(response, 200, [], link)
      }
      sendJson(response, 200, [messageFrame(roomA, 5).message], {
        link: `</messages/${roomA}/?before_seq=5&limit=1>; rel="prev", </messages/${roomA}/?after_seq=5&limit=1>; rel="next"`
      })
    }
  })
  const client = createChatClient({ baseUrl: peer.baseUrl, session: session('token-1') })
  const first = await client.rooms.list({ limit: 2 })
  t.equal(first.next, 'MjAyNi0x+YQ')
  const second = await client.rooms.list({ limit: 2, cursor: first.next })
  t.same(second, { rooms: [] })
  const page = await client.messages.list(roomA, { limit: 1, after_seq: 4 })
  t.equal(page.messages.length, 1)
  t.same(page.prev, { before_seq: 5, limit: 1 })
  t.same(page.next, { after_seq: 5, limit: 1 })
})

t.test('parseLinkHeader and retryAfterSeconds', async (t) => {
  t.same(parseLinkHeader(null), {})
  const links = parseLinkHeader('<https://a.example/x?p=1>; rel="next prev"; title="a, b; c", </y>;rel=last')
  t.same(links.next, { url: 'https://a.example/x?p=1', params: { rel: 'next prev', title: 'a, b; c' } })
  t.equal(links.prev?.url, 'https://a.example/x?p=1')
  t.equal(links.last?.url, '/y')
  t.equal(retryAfterSeconds('12'), 12)
  t.equal(retryAfterSeconds(null), undefined)
  t.equal(retryAfterSeconds('soon'), undefined)
  const inAMinute = new Date(Date.now() + 60_000).toUTCString()
  const seconds = retryAfterSeconds(inAMinute) ?? -1
  t.ok(seconds > 55 && seconds <= 60, `HTTP date: ${seconds}`)
})

t.test('avatar upload is multipart with an `avatar` file part; fetch reads bytes, ETag and 304', async (t) => {
  const seen: Seen[] = []
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255])
  const peer = await startPeer(t, {
    http: (request, response, body) => {
      record(seen, request, body)
      if (request.method === 'PATCH') return sendJson(response, 200, { room_id: roomA, etag: '"e1"' })
      if (request.headers['if-none-match'] === '"e1"') return response.writeHead(304, { etag: '"e1"' }).end()
      response.writeHead(200, { 'content-type': 'image/webp', etag: '"e1"' }).end(Buffer.from(png))
    }
  })
  const client = createChatClient({ baseUrl: peer.baseUrl, session: session('token-1') })
  await client.rooms.avatar.upload(roomA, png, 'me.png')
  await client.rooms.avatar.upload(roomA, new Blob([png], { type: 'image/png' }))
  for (const [index, filename] of [[0, 'me.png'], [1, 'avatar']] as const) {
    const upload = seen[index]
    t.equal(upload?.method, 'PATCH')
    t.equal(upload?.url, `/chatrooms/${roomA}/avatar/`)
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(upload?.contentType ?? '')?.[1]
    t.ok(boundary, `multipart content type: ${upload?.contentType}`)
    const body = upload?.body ?? Buffer.alloc(0)
    const headerEnd = body.indexOf('\r\n\r\n')
    const partHeaders = body.subarray(0, headerEnd).toString()
    t.match(partHeaders, `Content-Disposition: form-data; name="avatar"; filename="${filename}"`)
    const bytes = body.subarray(headerEnd + 4, body.indexOf(`\r\n--${boundary}--`))
    t.same([...bytes], [...png], 'the bytes, unchanged')
    t.equal(body.toString('latin1').split(`--${boundary}\r\n`).length - 1, 1, 'one part')
  }
  const fetched = await client.rooms.avatar.fetch(roomA)
  t.same(fetched, { notModified: false, bytes: png, contentType: 'image/webp', etag: '"e1"' })
  t.same(await client.rooms.avatar.fetch(roomA, { etag: '"e1"' }), { notModified: true, etag: '"e1"' })
  t.equal(client.rooms.avatar.url(roomA), `${peer.baseUrl}/chatrooms/${roomA}/avatar/`)
})

t.test('messages.send tells 201 from 200 and always carries a client_msg_id; reactions.set likewise', async (t) => {
  const bodies: unknown[] = []
  let sends = 0
  const peer = await startPeer(t, {
    http: (request, response, body) => {
      bodies.push(JSON.parse(String(body)))
      sends += 1
      const status = sends === 1 ? 201 : 200
      if (request.url?.endsWith('/reaction/')) return sendJson(response, status, { message_id: 'm1', reaction: 'like' })
      sendJson(response, status, messageFrame(roomA, 1).message)
    }
  })
  const client = createChatClient({ baseUrl: peer.baseUrl, session: session('token-1') })
  const created = await client.messages.send(roomA, { text: 'hi', client_msg_id: 'c-1' })
  t.equal(created.created, true)
  t.equal(created.message.seq, 1)
  const repeated = await client.messages.send(roomA, { text: 'hi' })
  t.equal(repeated.created, false)
  t.same(bodies[0], { text: 'hi', client_msg_id: 'c-1' })
  t.match(bodies[1], { text: 'hi', client_msg_id: /^[0-9a-f-]{36}$/ })
  const reaction = await client.reactions.set('m1', 'like')
  t.same(reaction, { reaction: { message_id: 'm1', reaction: 'like' }, created: false })
  await delay(0)
})

t.test('rooms.direct tells 201 from 200; search.messages sends q and its options and reads the next page from the Link header', async (t) => {
  const seen: Seen[] = []
  const message = messageFrame(roomA, 5, 'lunch?').message as { id: string }
  const hit = { message, room: { id: roomA, kind: 'direct', name: 'Bob' }, highlight: { text: 'lunch?', marks: [{ start: 0, end: 5 }] } }
  let directs = 0
  const peer = await startPeer(t, {
    http: (request, response, body) => {
      record(seen, request, body)
      const url = new URL(request.url ?? '', 'http://x')
      if (url.pathname === '/direct/') return sendJson(response, ++directs === 1 ? 201 : 200, { id: roomA, kind: 'direct', name: 'Bob' })
      const link: Record<string, string> =
        url.searchParams.get('before') === null ? { link: `</search/messages/?q=lun+ch%26&limit=1&room_id=${roomA}&before=${hit.message.id}>; rel="next"` } : {}
      sendJson(response, 200, [hit], link)
    }
  })
  const client = createChatClient({ baseUrl: peer.baseUrl, session: session('token-1') })
  t.match(await client.rooms.direct('Bob Stone'), { room: { id: roomA, kind: 'direct' }, created: true })
  t.match(await client.rooms.direct('Bob Stone'), { created: false })
  t.same(JSON.parse(String(seen[0]?.body)), { display_name: 'Bob Stone' })

  const first = await client.search.messages('lun ch&', { limit: 1, room_id: roomA })
  t.equal(seen[2]?.url, `/search/messages/?q=lun+ch%26&limit=1&room_id=${roomA}`, 'q encoded')
  t.same(first.hits, [hit])
  t.same(first.next, { before: hit.message.id, room_id: roomA, limit: 1 })
  const second = await client.search.messages('lun ch&', first.next)
  t.equal(new URL(seen[3]?.url ?? '', 'http://x').searchParams.get('before'), hit.message.id)
  t.same(second, { hits: [hit] }, 'the last page has no next')
})

t.test('roles and consent: paths, methods and bodies', async (t) => {
  const seen: Seen[] = []
  const peer = await startPeer(t, {
    http: (request, response, body) => {
      record(seen, request, body)
      if (request.method === 'DELETE') return response.writeHead(204).end()
      sendJson(response, 200, request.url === '/users/me/blocks/' ? [] : {})
    }
  })
  const client = createChatClient({ baseUrl: peer.baseUrl, session: session('token-1') })
  await client.rooms.setRole(roomA, 'u/1', 'admin')
  await client.rooms.removeParticipant(roomA, 'u1')
  await client.rooms.update(roomA, { members_can_add: false })
  await client.users.me()
  await client.users.update({ rooms_invite: 'nobody' })
  t.same(await client.users.blocks.list(), [])
  await client.users.blocks.block('u1')
  await client.users.blocks.unblock('u1')
  t.same(
    seen.map((request) => `${request.method} ${request.url}`),
    [
      `PATCH /chatrooms/${roomA}/participants/u%2F1/`,
      `DELETE /chatrooms/${roomA}/participants/u1/`,
      `PATCH /chatrooms/${roomA}/`,
      'GET /users/me/',
      'PATCH /users/me/',
      'GET /users/me/blocks/',
      'PUT /users/me/blocks/u1/',
      'DELETE /users/me/blocks/u1/'
    ]
  )
  t.same(JSON.parse(String(seen[0]?.body)), { role: 'admin' })
  t.same(JSON.parse(String(seen[2]?.body)), { members_can_add: false })
  t.same(JSON.parse(String(seen[4]?.body)), { rooms_invite: 'nobody' })
  t.equal(seen[6]?.body.length, 0, 'a block has no body')
  t.ok(seen.every((request) => request.authorization === 'Bearer token-1'))
})
