import t from 'tap'
import { VerifiedTokens } from '../src/verified-tokens.js'

const at = (expiresAt: number) => ({ expiresAt })

t.test('an entry is answered until its lifetime or its token expiry, whichever comes first', async (t) => {
  const cache = new VerifiedTokens<{ expiresAt: number }>(1_000, 10)
  const longLived = at(60_000)
  cache.set('a', longLived, 0)
  t.equal(cache.get('a', 999), longLived, 'within the lifetime')
  t.equal(cache.get('a', 1_000), undefined, 'not at the end of the lifetime')
  t.equal(cache.size, 0, 'and forgotten then')

  const shortLived = at(500)
  cache.set('b', shortLived, 0)
  t.equal(cache.get('b', 499), shortLived)
  t.equal(cache.get('b', 500), undefined, 'not once the token has expired, however long the lifetime')

  cache.set('c', at(100), 100)
  t.equal(cache.size, 0, 'a token already expired is not stored')
  t.equal(cache.get('unknown', 0), undefined)
})

t.test('the least recently stored entry goes first when the cache is full', async (t) => {
  const cache = new VerifiedTokens<{ expiresAt: number }>(60_000, 2)
  cache.set('a', at(60_000), 0)
  cache.set('b', at(60_000), 0)
  cache.set('a', at(60_000), 1)
  cache.set('c', at(60_000), 2)
  t.equal(cache.size, 2)
  t.equal(cache.get('b', 3), undefined, 'b, stored longest ago, went')
  t.ok(cache.get('a', 3), 'a, stored again, stayed')
  t.ok(cache.get('c', 3))
})

t.test('a token stored again takes its new place in the order without pushing another out', async (t) => {
  const cache = new VerifiedTokens<{ expiresAt: number }>(60_000, 2)
  cache.set('a', at(60_000), 0)
  cache.set('b', at(60_000), 0)
  cache.set('b', at(60_000), 1)
  t.equal(cache.size, 2)
  t.ok(cache.get('a', 2), 'a stays: storing b again made no room')
  t.ok(cache.get('b', 2))
})
