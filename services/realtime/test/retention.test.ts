import { test } from 'tap'
import { sql } from 'kysely'
import { pruneRoomEvents } from '../src/events.repository.js'
import { build } from './helper.js'

test('pruning keeps recent events, unpublished ones and each room\'s newest; a resume from before what is kept gets resync_required', async (t) => {
  const h = await build(t)
  const ada = await h.createUser()
  const roomId = await h.createRoom(ada)
  const quiet = await h.createRoom(ada)
  for (let index = 0; index < 6; index++) await h.send(ada, roomId, `m${index}`)
  await h.send(ada, quiet, 'only one')
  await h.publisher.close()
  // Events 1-4 and the quiet room's only event are 40 days old; event 3 was never published.
  await sql`update room_events set created_at = now() - interval '40 days' where (room_id = ${roomId} and seq <= 4) or room_id = ${quiet}`.execute(h.db)
  await sql`insert into room_events_outbox (room_id, seq, type, created_at) select room_id, seq, type, created_at from room_events where room_id = ${roomId} and seq = 3 on conflict do nothing`.execute(h.db)
  t.equal(await pruneRoomEvents(h.db, 30, 1000), 3, 'events 1, 2 and 4')
  const kept = await h.db.selectFrom('room_events').select(['room_id', 'seq']).orderBy('room_id').orderBy('seq').execute()
  t.same(kept.filter((row) => row.room_id === roomId).map((row) => row.seq), [3, 5, 6], 'the unpublished one and the recent ones')
  t.same(kept.filter((row) => row.room_id === quiet).map((row) => row.seq), [1], "the quiet room's newest event stays")
  t.equal(await pruneRoomEvents(h.db, 30, 1000), 0, 'nothing more to prune')
})
