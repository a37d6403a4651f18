// The tracker's clock is passed in: lapses and last-heard times without waiting.
import t from 'tap'
import { createInProcessBus } from '@chat/bus'
import { PresenceTracker, type PresenceChange } from '../src/index.js'

function tracked(): { tracker: PresenceTracker; changes: PresenceChange[] } {
  const tracker = new PresenceTracker(createInProcessBus())
  const changes: PresenceChange[] = []
  tracker.onChange((change) => changes.push(change))
  return { tracker, changes }
}

t.test('an entry that is not repeated lapses a TTL after its gateway last named the user, and says when that was', async (t) => {
  const { tracker, changes } = tracked()
  tracker.apply({ gateway: 'g1', ttl_ms: 3_000, online: ['ada'] }, 1_000)
  t.same(changes, [{ userId: 'ada', online: true }])
  tracker.apply({ gateway: 'g1', ttl_ms: 3_000, online: ['ada'] }, 2_000)
  t.equal(changes.length, 1, 'a refresh is no change')
  tracker.sweep(4_999)
  t.ok(tracker.isOnline('ada', 4_999), 'the refresh moved the lapse to 5,000')
  t.equal(changes.length, 1)
  tracker.sweep(5_000)
  t.same(changes[1], { userId: 'ada', online: false, lastHeardAt: 2_000, expired: true }, 'the last refresh, not the first update nor the lapse')
  t.equal(tracker.size, 0, 'an offline user is forgotten')
})

t.test('online while any gateway names the user; the last of two to lapse gives the time last heard', async (t) => {
  const { tracker, changes } = tracked()
  tracker.apply({ gateway: 'g1', ttl_ms: 3_000, online: ['ada'] }, 1_000)
  tracker.apply({ gateway: 'g2', ttl_ms: 3_000, online: ['ada'] }, 1_500)
  tracker.sweep(4_000)
  t.ok(tracker.isOnline('ada', 4_000), 'g2 still names her')
  tracker.sweep(4_500)
  t.same(changes.slice(1), [{ userId: 'ada', online: false, lastHeardAt: 1_500, expired: true }])
})

t.test('an offline update ends the entry at once, not by lapse', async (t) => {
  const { tracker, changes } = tracked()
  tracker.apply({ gateway: 'g1', ttl_ms: 3_000, online: ['ada'] }, 1_000)
  tracker.apply({ gateway: 'g2', ttl_ms: 3_000, offline: ['ada'] }, 1_200)
  t.equal(changes.length, 1, 'another gateway cannot end what g1 said')
  tracker.apply({ gateway: 'g1', ttl_ms: 3_000, offline: ['ada'] }, 1_400)
  t.same(changes[1], { userId: 'ada', online: false, lastHeardAt: 1_400, expired: false })
  t.notOk(tracker.isOnline('ada', 1_400))
})
