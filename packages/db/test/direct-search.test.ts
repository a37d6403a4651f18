import t from 'tap'
import { sql } from 'kysely'
import { failureOf, insertMessage, insertRoom, insertUser, openEngines } from './helper.js'

// Migration 0004 on both engines: the direct pair, and the search vector.

t.test('a direct room is one ordered pair of users, once', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      const [low, high] = [await insertUser(db, 'Ada'), await insertUser(db, 'Bob')].sort()
      const direct = (values: { direct_user_low: string | null; direct_user_high: string | null; kind?: 'group' | 'direct' }) =>
        db.insertInto('rooms').values({ name: '', created_by: low!, kind: 'direct', ...values }).returning('id').executeTakeFirstOrThrow()
      await direct({ direct_user_low: low!, direct_user_high: high! })
      t.same(await failureOf(direct({ direct_user_low: low!, direct_user_high: high! })), { code: '23505', constraint: 'rooms_direct_pair_unique' }, 'the pair is unique')
      t.equal((await failureOf(direct({ direct_user_low: high!, direct_user_high: low! }))).constraint, 'rooms_kind_check', 'the smaller id comes first')
      t.equal((await failureOf(direct({ direct_user_low: low!, direct_user_high: low! }))).constraint, 'rooms_kind_check', 'two different users')
      t.equal((await failureOf(direct({ direct_user_low: low!, direct_user_high: null }))).constraint, 'rooms_kind_check', 'both users')
      t.equal((await failureOf(direct({ kind: 'group', direct_user_low: low!, direct_user_high: high! }))).constraint, 'rooms_kind_check', 'a group has no pair')
      const group = await db.selectFrom('rooms').select(['kind', 'direct_user_low']).where('id', '=', await insertRoom(db, low!)).executeTakeFirstOrThrow()
      t.same(group, { kind: 'group', direct_user_low: null }, 'rooms are groups unless said otherwise')
    })
  }
})

t.test('the search vector follows the text, and the GIN index serves @@', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      const ada = await insertUser(db, 'Ada')
      const roomId = await insertRoom(db, ada)
      const id = await insertMessage(db, { room_id: roomId, seq: 1, sender_id: ada, text: 'Die Bücher, THE books' })
      const vector = async () =>
        (await db.selectFrom('messages').select(sql<string>`search_vector::text`.as('v')).where('id', '=', id).executeTakeFirstOrThrow()).v
      t.equal(await vector(), "'books':4 'bücher':2 'die':1 'the':3", "'simple': lower-cased words, no stemming, no stop words")
      await db.updateTable('messages').set({ text: 'edited' }).where('id', '=', id).execute()
      t.equal(await vector(), "'edited':1", 'an edit re-indexes')
      await db.updateTable('messages').set({ text: '', deleted_at: new Date() }).where('id', '=', id).execute()
      t.equal(await vector(), '', 'a wiped text has no words')

      // A table this small is read whole; with that ruled out, the plan shows whether the index fits the query at all.
      const plan = await db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx)
        return sql<Record<string, string>>`explain select id from messages where search_vector @@ to_tsquery('simple', 'edi:*')`.execute(trx)
      })
      t.match(plan.rows.map((row) => Object.values(row)[0]).join('\n'), /messages_search_vector_idx/, 'the query can use the GIN index')
    })
  }
})
