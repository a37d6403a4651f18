// The services mode end to end, smallest case: through the nginx gateway,
// register a user (identity) and create a room (rooms), and read it back.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { API_SPEC, apiRoutes } from './deploy-lib.js'
import { startServicesMode } from './helper.js'

await t.test('register and create a room through the gateway', async (t) => {
  // All five services (identity, rooms, messages, reactions, two realtime replicas).
  const mode = await startServicesMode(t)
  if (!mode) return

  t.ok(mode.gatewayUrl, `gateway at ${mode.gatewayUrl}`)
  const post = async (path: string, body: unknown, token?: string): Promise<Response> =>
    fetch(mode.url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body)
    })

  const registered = await post('/auth/register', { display_name: 'Ada Lovelace', password: 'correct horse battery' })
  t.equal(registered.status, 201, 'registered through the gateway')
  const session = (await registered.json()) as { access_token: string; user: { id: string; display_name: string } }
  t.equal(session.user.display_name, 'Ada Lovelace')

  const created = await post('/chatrooms', { name: 'first room' }, session.access_token)
  t.equal(created.status, 201, 'room created through the gateway (no trailing slash), token verified with the JWKS')
  const room = (await created.json()) as { id: string; name: string; created_by: { id: string } }
  t.match(room, { name: 'first room', created_by: { id: session.user.id } })

  const listed = await fetch(mode.url('/chatrooms/'), { headers: { authorization: `Bearer ${session.access_token}` } })
  t.equal(listed.status, 200)
  t.match(await listed.json(), [{ id: room.id }], 'the room is listed')

  const sent = await post(`/messages/${room.id}/`, { text: 'hello' }, session.access_token)
  t.equal(sent.status, 201, 'a message stored through the gateway')

  const emoji = await fetch(mode.url('/emoji/'))
  t.equal(emoji.status, 200, 'the reaction list (reactions) through the gateway')
  t.match(await emoji.json(), [{ name: 'like' }])

  const ready = await fetch(mode.url('/readyz'))
  t.equal(ready.status, 200, "the gateway's /readyz: every service is ready")
  t.match(await ready.json(), { status: 'ready', checks: { identity: 'ok', rooms: 'ok', messages: 'ok', reactions: 'ok', realtime: 'ok' } })

  // One OpenAPI document for the whole API at the gateway, with every route of api.md in it.
  const docs = await fetch(mode.url('/docs/json'))
  t.equal(docs.status, 200, '/docs/json at the gateway')
  const document = (await docs.json()) as { paths: Record<string, Record<string, unknown>> }
  const documented = new Set(Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\/$/, '')}`)))
  for (const route of apiRoutes(readFileSync(API_SPEC, 'utf8'))) {
    const path = route.template.split('?')[0]!.replace(/:([a-z_]+)/g, '{$1}').replace(/\/$/, '')
    t.ok(documented.has(`${route.method} ${path}`), `the gateway's OpenAPI document has ${route.method} ${path}`)
  }
  const ui = await fetch(mode.url('/docs'), { redirect: 'follow' })
  t.equal(ui.status, 200, 'the documentation UI at the gateway')

  const unknown = await fetch(mode.url('/no/such/path'))
  t.equal(unknown.status, 404)
  t.equal(unknown.headers.get('content-type'), 'application/problem+json', "the gateway's own 404 is problem details")
})
