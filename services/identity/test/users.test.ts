import t from 'tap'
import type { User } from '@chat/contracts'
import { bearer, build } from './helper.js'

t.test('search by prefix, case-insensitively, with % _ and \\ taken literally', async (t) => {
  const { app, register } = await build(t)
  const me = await register('Searcher')
  for (const name of ['50%off', '50xoff', 'a_b', 'axb', 'back\\slash', 'backxslash', 'Zoë', 'zoe', 'ZOLTAN']) await register(name)
  const search = async (term: string, limit?: number): Promise<string[]> => {
    const query = new URLSearchParams({ search: term, ...(limit ? { limit: String(limit) } : {}) })
    const response = await app.inject({ method: 'GET', url: `/users/?${query.toString()}`, headers: bearer(me) })
    t.equal(response.statusCode, 200, term)
    return response.json<User[]>().map((user) => user.display_name)
  }
  t.same(await search('50%'), ['50%off'])
  t.same(await search('a_'), ['a_b'])
  t.same(await search('back\\'), ['back\\slash'])
  t.same(await search('zo'), ['zoe', 'ZOLTAN', 'Zoë'], 'code point order of the lower-cased name')
  t.same(await search('ZO', 2), ['zoe', 'ZOLTAN'])
  t.same(await search('nobody'), [])
  const all = await app.inject({ method: 'GET', url: '/users/', headers: bearer(me) })
  t.equal(all.json().length, 10, 'no search: every user, up to the default limit of 20')
  const user = all.json<User[]>()[0]
  t.same(Object.keys(user ?? {}).sort(), ['created_at', 'display_name', 'id'], 'no password hash or key leaks')
})

t.test('search limits and auth', async (t) => {
  const { app, register } = await build(t)
  const me = await register('Limits')
  for (const limit of ['0', '101', 'ten', '-1']) {
    const response = await app.inject({ method: 'GET', url: `/users/?limit=${limit}`, headers: bearer(me) })
    t.equal(response.statusCode, 400, `limit=${limit}`)
    t.equal(response.json().code, 'validation_failed')
    t.equal(response.json().errors[0].path, '/limit')
  }
  const long = await app.inject({ method: 'GET', url: `/users/?search=${'x'.repeat(65)}`, headers: bearer(me) })
  t.equal(long.statusCode, 400)
  const nul = await app.inject({ method: 'GET', url: '/users/?search=a%00b', headers: bearer(me) })
  t.equal(nul.statusCode, 400, 'NUL in a search is a 400, not a database error')
  const anonymous = await app.inject({ method: 'GET', url: '/users/?search=L' })
  t.equal(anonymous.statusCode, 401)
})

t.test('/users/me for an account that no longer exists', async (t) => {
  const { app, db, register } = await build(t)
  const ghost = await register('Ghost')
  await db.deleteFrom('users').where('id', '=', ghost.user.id).execute()
  const response = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(ghost) })
  t.equal(response.statusCode, 401)
})
