import t from 'tap'
import { sql } from 'kysely'
import { isPostgresUrl } from '../src/connection.js'
import { insertMessage, insertRoom, insertUser, openEngines } from './helper.js'

t.test('both engines return the same JS types', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      const ada = await insertUser(db)
      const roomId = await insertRoom(db, ada)
      const big = 2 ** 40 + 7
      const room = await db
        .updateTable('rooms')
        .set({ last_seq: big })
        .where('id', '=', roomId)
        .returning(['last_seq', 'created_at', 'last_activity_at'])
        .executeTakeFirstOrThrow()
      t.equal(typeof room.last_seq, 'number', 'int8 comes back as number')
      t.equal(room.last_seq, big)
      t.type(room.created_at, Date, 'timestamptz comes back as Date')
      t.type(room.last_activity_at, Date)

      await insertMessage(db, { room_id: roomId, seq: 1, sender_id: ada })
      const message = await db.selectFrom('messages').select(['seq', 'created_at', 'edited_at']).executeTakeFirstOrThrow()
      t.same(message.seq, 1)
      t.equal(typeof message.seq, 'number')
      t.equal(message.edited_at, null)

      const { count } = await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()
      t.equal(count, 1, 'count(*) (int8) is a number too')

      const extremes = await sql<{ unsafe: unknown, money: unknown }>`select 9007199254740993::int8 as unsafe, 1.50::numeric as money`.execute(db)
      t.equal(extremes.rows[0]?.unsafe, 9007199254740993n, 'beyond 2^53 int8 is a bigint, never a rounded number')
      t.equal(extremes.rows[0]?.money, '1.50', 'numeric stays a string')

      await db.insertInto('room_events').values({ room_id: roomId, seq: 1, type: 'message.created', payload: JSON.stringify({ type: 'message.created', seq: 1 }) }).execute()
      const event = await db.selectFrom('room_events').select(['payload', 'seq']).executeTakeFirstOrThrow()
      t.same(event.payload, { type: 'message.created', seq: 1 }, 'jsonb comes back parsed')
      t.equal(event.seq, 1)
    })
  }
})

t.test('bytea round trips as a Buffer on both engines', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      const ada = await insertUser(db)
      const roomId = await insertRoom(db, ada)
      const bytes = new Uint8Array([0, 1, 2, 127, 128, 254, 255, 0x5c, 0x78])
      await db
        .insertInto('room_avatars')
        .values({ room_id: roomId, bytes, content_type: 'image/png', width: 64, height: 32, size: bytes.length, etag: '"abc"', updated_at: new Date() })
        .execute()
      const avatar = await db.selectFrom('room_avatars').selectAll().where('room_id', '=', roomId).executeTakeFirstOrThrow()
      t.ok(Buffer.isBuffer(avatar.bytes), 'a Buffer (so a reply can send it as is)')
      t.same([...avatar.bytes], [...bytes], 'the same bytes')
      t.same({ width: avatar.width, height: avatar.height, size: avatar.size }, { width: 64, height: 32, size: 9 })

      await db.updateTable('room_avatars').set({ bytes: Buffer.from('replaced') }).where('room_id', '=', roomId).execute()
      const replaced = await db.selectFrom('room_avatars').select('bytes').executeTakeFirstOrThrow()
      t.equal(Buffer.from(replaced.bytes).toString(), 'replaced', 'a Buffer is accepted as input too')
    })
  }
})

t.test('isPostgresUrl tells the engines apart', async (t) => {
  t.ok(isPostgresUrl('postgres://u@h/db'))
  t.ok(isPostgresUrl('postgresql://u@h:5432/db'))
  t.ok(isPostgresUrl('POSTGRES://u@h/db'))
  t.notOk(isPostgresUrl('memory://'))
  t.notOk(isPostgresUrl('./data/chat'))
  t.notOk(isPostgresUrl('/var/lib/chat'))
})
