import t from 'tap'
import type { Room, SearchHit } from '@chat/contracts'
import { standalone } from './helper.js'

// Direct rooms and search in the standalone process: PGlite must do what
// PostgreSQL does (the unique pair, the generated tsvector, GIN, ts_headline).

t.test('direct rooms and message search on PGlite', async (t) => {
  const { app } = await standalone(t)
  const register = async (name: string) => ({
    authorization: `Bearer ${(await app.inject({ method: 'POST', url: '/auth/register', payload: { display_name: name, password: 'long enough' } })).json().access_token}`
  })
  const ada = await register('Ada')
  const bob = await register('Bob')

  const created = await app.inject({ method: 'POST', url: '/direct/', headers: ada, payload: { display_name: 'bob' } })
  t.equal(created.statusCode, 201)
  const room = created.json<Room>()
  t.match(room, { kind: 'direct', name: 'Bob' })
  const both = await Promise.all([
    app.inject({ method: 'POST', url: '/direct/', headers: bob, payload: { display_name: 'Ada' } }),
    app.inject({ method: 'POST', url: '/direct', headers: ada, payload: { display_name: 'Bob' } })
  ])
  t.same(both.map((response) => [response.statusCode, response.json<Room>().id]), [[200, room.id], [200, room.id]])
  t.equal((await app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/participants/me/`, headers: bob })).json().code, 'direct_room')

  const sent = await app.inject({ method: 'POST', url: `/messages/${room.id}/`, headers: bob, payload: { text: 'Lunch at <noon>?' } })
  t.equal(sent.statusCode, 201)
  const found = await app.inject({ method: 'GET', url: '/search/messages/?q=lun', headers: ada })
  t.equal(found.statusCode, 200)
  const [hit] = found.json<SearchHit[]>()
  t.match(hit, { message: { id: sent.json().id }, room: { id: room.id, kind: 'direct', name: 'Bob' }, highlight: { text: 'Lunch at <noon>?', marks: [{ start: 0, end: 5 }] } })
  const edited = await app.inject({ method: 'PATCH', url: `/messages/${room.id}/${sent.json().id}/`, headers: bob, payload: { text: 'Dinner then' } })
  t.equal(edited.statusCode, 200)
  t.same((await app.inject({ method: 'GET', url: '/search/messages/?q=lunch', headers: ada })).json(), [], 'an edit re-indexes')
  t.equal((await app.inject({ method: 'GET', url: '/search/messages/?q=dinner', headers: bob })).json().length, 1)
  t.equal((await app.inject({ method: 'GET', url: '/search/messages/?q=%20', headers: bob })).statusCode, 400)
  const paths = Object.keys((await app.inject('/docs/json')).json<{ paths: Record<string, unknown> }>().paths)
  t.ok(paths.some((path) => path.startsWith('/search/messages')) && paths.some((path) => path.startsWith('/direct')), 'both in the OpenAPI document')
})
