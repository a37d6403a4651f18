import t from 'tap'
import type { Block, Me } from '@chat/contracts'
import { bearer, build } from './helper.js'

t.test('rooms_invite: anyone by default, PATCH /users/me/ sets it, GET /users/me/ shows it', async (t) => {
  const { app, db, register } = await build(t)
  const ada = await register('Ada')
  const me = await app.inject({ method: 'GET', url: '/users/me/', headers: bearer(ada) })
  t.same(me.json<Me>(), { ...ada.user, rooms_invite: 'anyone' })
  const set = await app.inject({ method: 'PATCH', url: '/users/me/', headers: bearer(ada), payload: { rooms_invite: 'nobody' } })
  t.equal(set.statusCode, 200)
  t.same(set.json<Me>(), { ...ada.user, rooms_invite: 'nobody' })
  t.equal((await db.selectFrom('users').select('rooms_invite').where('id', '=', ada.user.id).executeTakeFirstOrThrow()).rooms_invite, 'nobody')
  for (const payload of [{}, { rooms_invite: 'friends' }, { rooms_invite: 'nobody', display_name: 'Eve' }]) {
    const bad = await app.inject({ method: 'PATCH', url: '/users/me/', headers: bearer(ada), payload })
    t.equal(bad.statusCode, 400, JSON.stringify(payload))
    t.equal(bad.json().code, 'validation_failed')
  }
  t.equal((await app.inject({ method: 'PATCH', url: '/users/me/', payload: { rooms_invite: 'anyone' } })).statusCode, 401)
})

t.test('blocks: PUT is idempotent, GET lists the latest first, DELETE lifts; rows in user_blocks', async (t) => {
  const { app, db, register } = await build(t)
  const [ada, bob, cat] = [await register('Ada'), await register('Bob'), await register('Cat')]
  const put = (target: string, who = ada) => app.inject({ method: 'PUT', url: `/users/me/blocks/${target}/`, headers: bearer(who) })
  const first = await put(bob.user.id)
  t.equal(first.statusCode, 200)
  t.same(first.json<Block>().user, bob.user)
  const again = await put(bob.user.id)
  t.same(again.json<Block>(), first.json<Block>(), 'the same block, created_at kept')
  t.equal((await put(cat.user.id)).statusCode, 200)
  const list = await app.inject({ method: 'GET', url: '/users/me/blocks/', headers: bearer(ada) })
  t.same(list.json<Block[]>().map((block) => block.user.display_name), ['Cat', 'Bob'])
  t.same((await app.inject({ method: 'GET', url: '/users/me/blocks/', headers: bearer(bob) })).json(), [], 'only the caller\'s own')
  t.same(
    (await db.selectFrom('user_blocks').select(['blocker_id', 'blocked_id']).orderBy('created_at').execute()).map((row) => [row.blocker_id, row.blocked_id]),
    [[ada.user.id, bob.user.id], [ada.user.id, cat.user.id]]
  )
  const lifted = await app.inject({ method: 'DELETE', url: `/users/me/blocks/${bob.user.id}/`, headers: bearer(ada) })
  t.equal(lifted.statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: `/users/me/blocks/${bob.user.id}/`, headers: bearer(ada) })).statusCode, 204, 'nothing to lift: 204')
  t.same((await app.inject({ method: 'GET', url: '/users/me/blocks/', headers: bearer(ada) })).json<Block[]>().map((block) => block.user.id), [cat.user.id])
})

t.test('blocks refuse bad input: self, unknown user, not a uuid, no token, past the limit', async (t) => {
  const { app, register } = await build(t)
  const ada = await register('Ada')
  const self = await app.inject({ method: 'PUT', url: `/users/me/blocks/${ada.user.id}/`, headers: bearer(ada) })
  t.equal(self.statusCode, 400)
  t.match(self.json(), { code: 'validation_failed', errors: [{ path: '/user_id' }] })
  const unknown = await app.inject({ method: 'PUT', url: '/users/me/blocks/0190f5e2-7a1b-7c3d-8e9f-0a1b2c3d4e5f/', headers: bearer(ada) })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'user_not_found')
  t.equal((await app.inject({ method: 'PUT', url: '/users/me/blocks/bob/', headers: bearer(ada) })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/users/me/blocks/' })).statusCode, 401)
  t.equal((await app.inject({ method: 'DELETE', url: `/users/me/blocks/${ada.user.id}/` })).statusCode, 401)
})

t.test('a user blocks at most limits.blocksPerUser users: 409 too_many_blocks after that', async (t) => {
  const { app, db, register } = await build(t)
  const ada = await register('Ada')
  const target = await register('Target')
  // Fill the list with rows (registering 1000 users through the API would take minutes of password hashing).
  const ids = await db
    .insertInto('users')
    .values(Array.from({ length: 1000 }, (_, index) => ({ display_name: `u${index}`, display_name_key: `u${index}`, password_hash: 'x' })))
    .returning('id')
    .execute()
  await db.insertInto('user_blocks').values(ids.map((row) => ({ blocker_id: ada.user.id, blocked_id: row.id }))).execute()
  const refused = await app.inject({ method: 'PUT', url: `/users/me/blocks/${target.user.id}/`, headers: bearer(ada) })
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().code, 'too_many_blocks')
  t.equal((await app.inject({ method: 'PUT', url: `/users/me/blocks/${ids[0]!.id}/`, headers: bearer(ada) })).statusCode, 200, 'one already blocked is still answered')
  await app.inject({ method: 'DELETE', url: `/users/me/blocks/${ids[0]!.id}/`, headers: bearer(ada) })
  t.equal((await app.inject({ method: 'PUT', url: `/users/me/blocks/${target.user.id}/`, headers: bearer(ada) })).statusCode, 200, 'room again after an unblock')
})
