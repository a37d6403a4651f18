import type { MessagePage } from '@chat/client'
import t from 'tap'
import { withAvatar } from '../src/state/avatars.slice.js'
import { emptyState } from '../src/state/chat-state.js'
import { mergeRoomList, readIsNews, upsertRoom } from '../src/state/rooms.slice.js'
import {
  confirmMessage,
  discardPending,
  latestPageLoaded,
  olderPageLoaded,
  pageReloaded,
  patchPending,
  rememberMyReactions,
  startLoading
} from '../src/state/timeline.slice.js'
import { expireTypers, nextTypingExpiry, setTyper, TypingThrottle } from '../src/state/typing.slice.js'
import { deepFreeze, message, room, stateWith, user } from './fixtures.js'

const ada = user('Ada')
const bob = user('Bob')

t.test('rooms: a reloaded list keeps local copies that saw later events, first', async (t) => {
  const a = room('a', ada, { last_seq: 5 })
  const b = room('b', ada, { last_seq: 3 })
  const gone = room('gone', ada)
  const fresh = room('fresh', bob, { last_seq: 9 })
  const current = deepFreeze([a, b, gone])
  const fetched = deepFreeze([fresh, { ...a, last_seq: 5, name: 'a (server)' }, { ...b, last_seq: 2 }])
  const { rooms, added, gone: goneIds } = mergeRoomList(current, fetched)
  t.same(rooms.map((entry) => entry.name), ['b', 'fresh', 'a (server)'], 'b is newer here; the rest in the server\'s order')
  t.same(added.map((entry) => entry.id), [fresh.id])
  t.same(goneIds, [gone.id])
})

t.test('rooms: a room from the server is added first, or updated in place keeping the read position', async (t) => {
  const a = room('a', ada, { unread_count: 2, last_read_seq: 4 })
  const b = room('b', ada)
  const state = deepFreeze(stateWith(ada, [a, b]))
  const reloaded = upsertRoom(state, { ...b, name: 'b2', unread_count: 0, last_read_seq: 9 })
  t.same(reloaded.rooms.map((entry) => entry.name), ['a', 'b2'])
  t.match(reloaded.rooms[1], { unread_count: 0, last_read_seq: 0 })
  const c = room('c', bob)
  t.same(upsertRoom(state, c).rooms.map((entry) => entry.name), ['c', 'a', 'b'])
})

t.test('rooms: a read report is news past the read position or while something is unread', async (t) => {
  const read = room('a', ada, { last_read_seq: 5, unread_count: 0 })
  t.notOk(readIsNews(read, 5))
  t.ok(readIsNews(read, 6))
  t.ok(readIsNews({ ...read, unread_count: 1 }, 5))
})

t.test('timeline: pages merge by id, the copy shown wins, my_reaction is remembered once', async (t) => {
  const a = room('a', ada)
  const shown = message(a.id, bob, 51, { text: 'live copy' })
  // An event came in while the page loaded.
  const loading = deepFreeze({
    ...stateWith(ada, [a]),
    myReactions: { [shown.id]: 'like' },
    timelines: { [a.id]: { status: 'loading' as const, messages: [shown], pending: [], loadingOlder: false } }
  })
  const older = message(a.id, bob, 50, { my_reaction: 'heart' })
  const page: MessagePage = { messages: [older, { ...shown, text: 'page copy', my_reaction: null }], prev: { before_seq: 50, limit: 50 } }
  const ready = latestPageLoaded(loading, a.id, page)
  t.match(ready.timelines[a.id], { status: 'ready', older: { before_seq: 50 } })
  t.same(ready.timelines[a.id]?.messages.map((entry) => entry.text), [older.text, 'live copy'])
  t.same(ready.myReactions, { [shown.id]: 'like', [older.id]: 'heart' }, 'what was known stays')

  const oldest = message(a.id, bob, 1)
  const more = olderPageLoaded(deepFreeze({ ...ready, timelines: { [a.id]: { ...ready.timelines[a.id]!, loadingOlder: true } } }), a.id, { messages: [oldest] })
  t.same(more.timelines[a.id]?.messages.map((entry) => entry.seq), [1, 50, 51])
  t.match(more.timelines[a.id], { loadingOlder: false, older: undefined })

  const reloaded = pageReloaded(deepFreeze(more), a.id, { messages: [message(a.id, bob, 80)] })
  t.same(reloaded.timelines[a.id]?.messages.map((entry) => entry.seq), [80], 'after a resync the page replaces what was shown')
  t.equal(rememberMyReactions(reloaded, []), reloaded)
})

t.test('timeline: opening keeps the lines still being sent; sending, failing, confirming, discarding', async (t) => {
  const a = room('a', ada)
  let state = stateWith(ada, [a], { [a.id]: [] })
  state = { ...state, timelines: { [a.id]: { ...state.timelines[a.id]!, pending: [{ clientMsgId: 'c1', text: 'hi', status: 'sending' }] } } }
  const reopened = startLoading(deepFreeze(state), a.id)
  t.match(reopened.timelines[a.id], { status: 'loading', messages: [], pending: [{ clientMsgId: 'c1' }] })

  const failed = patchPending(deepFreeze(state), a.id, 'c1', { status: 'failed', error: 'offline' })
  t.same(failed.timelines[a.id]?.pending, [{ clientMsgId: 'c1', text: 'hi', status: 'failed', error: 'offline' }])
  const confirmed = confirmMessage(deepFreeze(failed), a.id, message(a.id, ada, 1, { text: 'hi', client_msg_id: 'c1' }))
  t.same(confirmed.timelines[a.id]?.pending, [])
  t.same(confirmed.timelines[a.id]?.messages.map((entry) => entry.text), ['hi'])
  t.same(discardPending(deepFreeze(failed), a.id, 'c1').timelines[a.id]?.pending, [])
  t.equal(confirmMessage(failed, 'not-opened', message('not-opened', ada, 1)), failed, 'no timeline, no change')
})

t.test('typing: entries run out; the timer aims at the first to go', async (t) => {
  const state = deepFreeze(setTyper(setTyper(emptyState(null), 'r1', bob.id, bob, 1_000), 'r2', ada.id, ada, 3_000))
  t.equal(nextTypingExpiry(state), 6_000)
  const expired = expireTypers(state, 6_000)
  t.same(expired.typing, { r1: [], r2: [{ user: ada, until: 8_000 }] })
  t.equal(nextTypingExpiry(emptyState(null)), undefined)
})

t.test('typing: the caller\'s frames go out at most every 2 s, at once after a send', async (t) => {
  const throttle = new TypingThrottle()
  const sent: number[] = []
  const send = (at: number) => () => (sent.push(at), true)
  throttle.typed(send(0), 10_000)
  throttle.typed(send(1), 11_000)
  throttle.typed(send(2), 12_000)
  throttle.reset()
  throttle.typed(send(3), 12_500)
  throttle.typed(() => false, 20_000)
  throttle.typed(send(4), 20_100)
  t.same(sent, [0, 2, 3, 4], 'a frame that did not go out (socket closed) does not count')
})

t.test('avatars: one object URL per room, none for initials', async (t) => {
  const state = deepFreeze({ avatars: { r1: 'blob:1' } })
  t.same(withAvatar(state, 'r1', 'blob:2').avatars, { r1: 'blob:2' })
  t.same(withAvatar(state, 'r1', undefined).avatars, {})
  t.same(withAvatar(state, 'r2', 'blob:3').avatars, { r1: 'blob:1', r2: 'blob:3' })
})
