import { test } from 'tap'
import { RoomSequencer, type Offered } from '../src/room-sequencer.js'

interface Event {
  seq: number
  from: 'live' | 'store'
}

const live = (seq: number): Event => ({ seq, from: 'live' })
const stored = (seq: number): Event => ({ seq, from: 'store' })

/** A sequencer that records what it passes on, started at `position` and released. */
function started(position: number, maxWaiting?: number): { sequencer: RoomSequencer<Event>; passed: Event[] } {
  const passed: Event[] = []
  const sequencer = new RoomSequencer<Event>((event) => passed.push(event), maxWaiting === undefined ? {} : { maxWaiting })
  sequencer.startAt(position)
  sequencer.release()
  return { sequencer, passed }
}

const seqs = (events: Event[]): number[] => events.map((event) => event.seq)

test('in order: each next event passes at once', async (t) => {
  const { sequencer, passed } = started(0)
  t.same([1, 2, 3].map((seq) => sequencer.offer(live(seq))), ['passed', 'passed', 'passed'])
  t.same(seqs(passed), [1, 2, 3])
  t.equal(sequencer.lastSeq, 3)
  t.equal(sequencer.nextRead(), undefined, 'nothing is missing')
})

test('duplicate: a seq passed already is dropped, the live stream and the store alike', async (t) => {
  let duplicates = 0
  const passed: Event[] = []
  const sequencer = new RoomSequencer<Event>((event) => passed.push(event), { onDuplicate: () => duplicates++ })
  sequencer.offer(live(4))
  sequencer.startAt(5)
  sequencer.release()
  t.equal(duplicates, 1, 'a held event at or before the start position counts as a duplicate')
  t.equal(sequencer.offer(live(5)), 'duplicate')
  t.equal(sequencer.offer(live(6)), 'passed')
  t.equal(sequencer.offer(live(6)), 'duplicate')
  t.equal(sequencer.offer(live(2)), 'duplicate')
  t.equal(sequencer.fromStore(stored(6)), 'duplicate')
  t.same(seqs(passed), [6])
  t.equal(duplicates, 4, 'the live ones are counted')
})

test('gap: an event past a missing one waits, and the missing range is what to read from the store', async (t) => {
  const { sequencer, passed } = started(0)
  sequencer.offer(live(1))
  t.equal(sequencer.offer(live(4)), 'gap')
  t.equal(sequencer.offer(live(5)), 'gap')
  t.same(seqs(passed), [1], 'nothing past the gap went out')
  t.same(sequencer.nextRead(), { afterSeq: 1, beforeSeq: 4 })
})

test('gap filled: the stored events pass, then the waiting ones, in order, each once', async (t) => {
  const { sequencer, passed } = started(0)
  sequencer.offer(live(1))
  sequencer.offer(live(4))
  sequencer.offer(live(5))
  t.ok(sequencer.beginRead())
  t.notOk(sequencer.beginRead(), 'one read at a time')
  const missing = sequencer.nextRead()
  t.same(missing, { afterSeq: 1, beforeSeq: 4 })
  t.equal(sequencer.offer(live(2)), 'gap', 'while the store is read, even the next live event waits')
  t.same(seqs(passed), [1])
  t.same([2, 3].map((seq) => sequencer.fromStore(stored(seq))), ['passed', 'passed'])
  t.same(seqs(passed), [1, 2, 3, 4, 5], 'the waiting events followed the last stored one')
  t.equal(passed[1]!.from, 'store', 'seq 2 came from the store; its live copy is dropped')
  t.equal(sequencer.nextRead(), undefined)
  sequencer.endRead()
  t.equal(sequencer.offer(live(6)), 'passed')
  t.equal(sequencer.fromStore(stored(8)), 'gap', 'the store never skips: a stored event past a gap does not pass')
})

test('a gap past the limit of waiting events overflows', async (t) => {
  const { sequencer } = started(0, 2)
  const offers: Offered[] = [3, 4, 5].map((seq) => sequencer.offer(live(seq)))
  t.same(offers, ['gap', 'gap', 'overflow'])
})

test('hand-over: live events held during a replay that overlaps them go out once, after the replay', async (t) => {
  const passed: Event[] = []
  const sequencer = new RoomSequencer<Event>((event) => passed.push(event))
  // Joined the live stream first: 8 and 9 arrive before the start position is known.
  t.equal(sequencer.offer(live(8)), 'held')
  t.equal(sequencer.offer(live(9)), 'held')
  sequencer.startAt(5)
  t.equal(sequencer.offer(live(10)), 'held', 'still held while the replay runs')
  // The replay read the store up to 9, overlapping the held 8 and 9.
  t.same([6, 7, 8, 9].map((seq) => sequencer.fromStore(stored(seq))), ['passed', 'passed', 'passed', 'passed'])
  t.ok(sequencer.isHolding)
  t.equal(sequencer.release(), 'passed')
  t.notOk(sequencer.isHolding)
  t.same(seqs(passed), [6, 7, 8, 9, 10], 'no gap, no duplicate')
  t.same(passed.map((event) => event.from), ['store', 'store', 'store', 'store', 'live'])
  t.equal(sequencer.offer(live(11)), 'passed')
})

test('hand-over: a held event past what the replay reached is a gap', async (t) => {
  const passed: Event[] = []
  const sequencer = new RoomSequencer<Event>((event) => passed.push(event))
  sequencer.offer(live(9))
  sequencer.startAt(5)
  sequencer.fromStore(stored(6))
  t.equal(sequencer.release(), 'gap')
  t.same(seqs(passed), [6])
  t.same(sequencer.nextRead(), { afterSeq: 6, beforeSeq: 9 })
})

test('resync: skipping to the room\'s seq drops what the client will reload, and the live stream goes on from there', async (t) => {
  const passed: Event[] = []
  const sequencer = new RoomSequencer<Event>((event) => passed.push(event))
  sequencer.offer(live(61))
  sequencer.offer(live(62))
  sequencer.startAt(5)
  // Too far behind (or before the kept history): the client is told to resync at the room's seq.
  sequencer.startAt(61)
  t.equal(sequencer.release(), 'passed')
  t.same(seqs(passed), [62], 'nothing at or before the resync point, everything after it')
  t.equal(sequencer.lastSeq, 62)
})

test('a stalled sequencer behind the store asks to read up to the stored seq; a moving one does not', async (t) => {
  const { sequencer, passed } = started(0)
  sequencer.offer(live(1))
  t.notOk(sequencer.storeReports(3), 'moved since the previous report (none yet): the bus may still bring 2 and 3')
  t.notOk(sequencer.storeReports(1), 'not behind')
  t.ok(sequencer.storeReports(3), 'stalled and behind')
  t.ok(sequencer.beginRead())
  t.same(sequencer.nextRead(), { afterSeq: 1, beforeSeq: 4 })
  sequencer.fromStore(stored(2))
  sequencer.fromStore(stored(3))
  t.equal(sequencer.nextRead(), undefined)
  sequencer.endRead()
  t.same(seqs(passed), [1, 2, 3])
})

test('before its start position a sequencer holds everything; clear forgets held and waiting events', async (t) => {
  const passed: Event[] = []
  const sequencer = new RoomSequencer<Event>((event) => passed.push(event))
  t.equal(sequencer.lastSeq, -1)
  t.notOk(sequencer.storeReports(10), 'not started: nothing to catch up')
  sequencer.offer(live(3))
  sequencer.clear()
  sequencer.startAt(0)
  t.equal(sequencer.release(), 'passed')
  t.same(passed, [])
  t.equal(sequencer.offer(live(2)), 'gap')
  sequencer.clear()
  t.equal(sequencer.nextRead(), undefined)
})
