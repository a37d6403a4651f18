import t from 'tap'
import type { ReactionCounts } from '@chat/contracts'
import { allowedNames, build, countsInTable, roomEventLog, settle, waitFor, type ReactionUpdated, type TestUser } from './helper.js'

/** Replays reaction events in seq order and checks that each one's counts follow from the ones before it. */
function replay(frames: ReactionUpdated[]): { states: Map<string, string | null>; transitions: Map<string, { added: number; removed: number }>; consistent: boolean } {
  const states = new Map<string, string | null>()
  const transitions = new Map<string, { added: number; removed: number }>()
  let consistent = true
  for (const frame of frames) {
    const before = states.get(frame.user.id) ?? null
    const counted = transitions.get(frame.user.id) ?? { added: 0, removed: 0 }
    if (before === null && frame.reaction !== null) counted.added += 1
    if (before !== null && frame.reaction === null) counted.removed += 1
    transitions.set(frame.user.id, counted)
    if (before === frame.reaction) consistent = false // an event that changed nothing
    states.set(frame.user.id, frame.reaction)
    const counts: ReactionCounts = {}
    for (const reaction of states.values()) if (reaction !== null) counts[reaction] = (counts[reaction] ?? 0) + 1
    if (JSON.stringify(Object.entries(counts).sort()) !== JSON.stringify(Object.entries(frame.reactions).sort())) consistent = false
  }
  return { states, transitions, consistent }
}

t.test('one user switching reactions from two clients at once: one row, gapless seqs, the last event\'s counts equal the table', async (t) => {
  const { events, reactionEvents, db, createUser, createRoom, createMessage, react, unreact, storedReactions, lastSeq } = await build(t)
  const ada = await createUser('Ada')
  const bob = await createUser('Bob')
  const roomId = await createRoom(ada, [bob])
  const messageId = await createMessage(ada, roomId)
  const statuses = new Map<string, Map<number, number>>()
  const record = (user: TestUser, status: number) => {
    const byStatus = statuses.get(user.id) ?? new Map<number, number>()
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1)
    statuses.set(user.id, byStatus)
  }
  const rounds = 4
  const perClient = 50

  for (let round = 0; round < rounds; round++) {
    const requests: Array<Promise<void>> = []
    for (let index = 0; index < perClient; index++) {
      // Two clients of Ada, each sending its own sequence of names, and a few removals in between.
      for (const offset of [0, 3]) {
        const reaction = allowedNames[(index + offset + round) % allowedNames.length]!
        requests.push(react(ada, messageId, { reaction }).then((response) => record(ada, response.statusCode)))
      }
      if (index % 10 === 5) requests.push(unreact(ada, messageId).then((response) => record(ada, response.statusCode)))
      // Bob changes his mind too, so that the counts hold more than one user.
      if (index % 5 === 0) {
        requests.push(react(bob, messageId, { reaction: allowedNames[index % 4]! }).then((response) => record(bob, response.statusCode)))
      }
    }
    await Promise.all(requests)
    const stored = await storedReactions(messageId)
    t.ok(stored[ada.id] === undefined || allowedNames.includes(stored[ada.id]!), `round ${round}: at most one row for Ada`)
    const rows = await db.selectFrom('reactions').select('user_id').where('message_id', '=', messageId).where('user_id', '=', ada.id).execute()
    t.ok(rows.length <= 1, `round ${round}: ${rows.length} row(s) for Ada`)
  }

  // A last change that is sure to set, then one that is sure to remove.
  const settled = await react(ada, messageId, { reaction: 'wow' })
  t.ok([200, 201].includes(settled.statusCode))
  record(ada, settled.statusCode)
  const rows = await db.selectFrom('reactions').selectAll().where('message_id', '=', messageId).where('user_id', '=', ada.id).execute()
  t.equal(rows.length, 1, 'exactly one row for Ada')
  t.equal(rows[0]?.reaction, 'wow')
  const finalDelete = await unreact(ada, messageId)
  t.equal(finalDelete.statusCode, 204)
  record(ada, 204)
  t.same(await db.selectFrom('reactions').select('user_id').where('message_id', '=', messageId).where('user_id', '=', ada.id).execute(), [], 'none after the final delete')

  const seq = await lastSeq(roomId)
  const log = await roomEventLog(db, roomId)
  t.same(log.map((event) => event.seq), Array.from({ length: seq }, (_, index) => index + 1), 'the room\'s seqs are gapless, 1..last_seq, and last_seq is the latest event\'s')
  await waitFor(() => reactionEvents(roomId).length === seq - 1, 10_000)
  await settle()
  const frames = reactionEvents(roomId).sort((a, b) => a.seq - b.seq)
  t.equal(events.length, seq - 1, 'every change published once, nothing else')
  t.same(frames.map((frame) => frame.seq), Array.from({ length: seq - 1 }, (_, index) => index + 2), 'published seqs: 2..last_seq, no gap, no duplicate')
  t.same(frames, log.slice(1).map((event) => event.payload), 'what was published is what was stored')
  const last = frames.at(-1)
  t.same(last?.reactions, await countsInTable(db, messageId), 'the counts of the last event (highest seq) are the table\'s')
  t.same(last && { user: last.user.id, reaction: last.reaction }, { user: ada.id, reaction: null })

  const { states, transitions, consistent } = replay(frames)
  t.ok(consistent, 'replayed in seq order, every event changed something and its counts follow from the ones before')
  t.same(Object.fromEntries([...states].filter(([, reaction]) => reaction !== null)), await storedReactions(messageId), 'the replay ends where the table is')
  for (const user of [ada, bob]) {
    const byStatus = statuses.get(user.id) ?? new Map<number, number>()
    t.equal(transitions.get(user.id)?.added ?? 0, byStatus.get(201) ?? 0, `${user.display_name}: one 201 per event that added a reaction`)
    t.equal(transitions.get(user.id)?.removed ?? 0, byStatus.get(204) ?? 0, `${user.display_name}: one 204 per event that removed it`)
    t.same([...byStatus.keys()].filter((status) => ![200, 201, 204, 404].includes(status)), [], `${user.display_name}: no other status`)
  }
  const changes = [...statuses.values()].reduce((sum, byStatus) => sum + (byStatus.get(200) ?? 0) + (byStatus.get(201) ?? 0) + (byStatus.get(204) ?? 0), 0)
  t.ok(frames.length <= changes, `${frames.length} events for ${changes} successful requests: the same reaction again made none`)
  t.ok((statuses.get(ada.id)?.get(404) ?? 0) > 0 || (statuses.get(ada.id)?.get(204) ?? 0) > 1, 'the removals raced the sets')
})
