import t from 'tap'
import { randomUUID } from 'node:crypto'
import { failureOf, insertMessage, insertRoom, insertUser, openEngines } from './helper.js'

t.test('unique constraints reject duplicates', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      const ada = await insertUser(db, 'Ada')
      const roomId = await insertRoom(db, ada)

      await insertMessage(db, { room_id: roomId, seq: 1, sender_id: ada })
      t.same(
        await failureOf(insertMessage(db, { room_id: roomId, seq: 1, sender_id: ada })),
        { code: '23505', constraint: 'messages_room_id_seq_unique' },
        'two messages cannot share a seq in a room'
      )

      await insertMessage(db, { room_id: roomId, seq: 2, sender_id: ada, client_msg_id: 'c-1' })
      t.same(
        await failureOf(insertMessage(db, { room_id: roomId, seq: 3, sender_id: ada, client_msg_id: 'c-1' })),
        { code: '23505', constraint: 'messages_room_id_sender_id_client_msg_id_unique' },
        'a retried send with the same client_msg_id is rejected'
      )
      await insertMessage(db, { room_id: roomId, seq: 3, sender_id: ada })
      await insertMessage(db, { room_id: roomId, seq: 4, sender_id: ada })
      const bob = await insertUser(db, 'Bob')
      await insertMessage(db, { room_id: roomId, seq: 5, sender_id: bob, client_msg_id: 'c-1' })
      t.pass('null client_msg_ids and other senders do not conflict')

      t.same(
        await failureOf(insertUser(db, 'ADA')),
        { code: '23505', constraint: 'users_display_name_key_unique' },
        'display names are unique case-insensitively'
      )

      const token = { user_id: ada, family_id: randomUUID(), token_hash: 'a'.repeat(64), expires_at: new Date(Date.now() + 60_000) }
      await db.insertInto('refresh_tokens').values(token).execute()
      t.same(
        await failureOf(db.insertInto('refresh_tokens').values(token).execute()),
        { code: '23505', constraint: 'refresh_tokens_token_hash_unique' }
      )
    })
  }
})

t.test('check constraints reject impossible values', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      const ada = await insertUser(db)
      const roomId = await insertRoom(db, ada)
      t.equal((await failureOf(insertMessage(db, { room_id: roomId, seq: 0, sender_id: ada }))).constraint, 'messages_seq_check')
      t.equal(
        (await failureOf(db.insertInto('room_participants').values({ room_id: roomId, user_id: ada, role: 'moderator' as 'owner' }).execute())).constraint,
        'room_participants_role_check'
      )
      t.equal(
        (await failureOf(db.updateTable('rooms').set({ last_seq: -1 }).where('id', '=', roomId).execute())).constraint,
        'rooms_last_seq_check'
      )
      const avatar = { room_id: roomId, bytes: new Uint8Array([1]), content_type: 'image/png', width: 1, height: 1, size: 1, etag: 'e', updated_at: new Date() }
      t.equal((await failureOf(db.insertInto('room_avatars').values({ ...avatar, width: 0 }).execute())).constraint, 'room_avatars_width_check')
      t.equal((await failureOf(db.insertInto('room_avatars').values({ ...avatar, size: 0 }).execute())).constraint, 'room_avatars_size_check')
    })
  }
})

t.test('deleting a room removes its participants, avatar, messages, reactions and events', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      const ada = await insertUser(db)
      const roomId = await insertRoom(db, ada)
      const otherRoomId = await insertRoom(db, ada)
      for (const room of [roomId, otherRoomId]) {
        await db.insertInto('room_participants').values({ room_id: room, user_id: ada, role: 'owner' }).execute()
        const messageId = await insertMessage(db, { room_id: room, seq: 1, sender_id: ada })
        await db.insertInto('reactions').values({ message_id: messageId, user_id: ada, reaction: 'like', updated_at: new Date() }).execute()
        await db.insertInto('room_events').values({ room_id: room, seq: 1, type: 'message.created', payload: '{"type":"message.created"}' }).execute()
        await db
          .insertInto('room_avatars')
          .values({ room_id: room, bytes: new Uint8Array([1, 2]), content_type: 'image/png', width: 1, height: 1, size: 2, etag: 'e', updated_at: new Date() })
          .execute()
      }

      await db.deleteFrom('rooms').where('id', '=', roomId).execute()

      for (const table of ['room_participants', 'messages', 'room_events', 'room_avatars'] as const) {
        const rows = await db.selectFrom(table).select('room_id').execute()
        t.same(rows, [{ room_id: otherRoomId }], `${table}: only the other room's row is left`)
      }
      const reactions = await db.selectFrom('reactions').innerJoin('messages', 'messages.id', 'reactions.message_id').select('messages.room_id').execute()
      t.same(reactions, [{ room_id: otherRoomId }], 'reactions went with their message')
    })
  }
})

t.test('a user who owns history cannot be deleted; their refresh tokens go with them', async (t) => {
  for (const { name, db } of await openEngines(t)) {
    await t.test(name, async (t) => {
      const ada = await insertUser(db)
      const bob = await insertUser(db)
      const roomId = await insertRoom(db, ada)
      await insertMessage(db, { room_id: roomId, seq: 1, sender_id: bob })

      t.same(
        await failureOf(db.deleteFrom('users').where('id', '=', bob).execute()),
        { code: '23503', constraint: 'messages_sender_id_fkey' },
        'RESTRICT: the sender of a message stays'
      )
      t.equal((await failureOf(db.deleteFrom('users').where('id', '=', ada).execute())).code, '23503', 'RESTRICT: the creator of a room stays')
      t.equal((await db.selectFrom('messages').select('id').execute()).length, 1, 'the message is still there')

      const carol = await insertUser(db)
      await db.insertInto('refresh_tokens').values({ user_id: carol, family_id: randomUUID(), token_hash: randomUUID(), expires_at: new Date() }).execute()
      await db.deleteFrom('users').where('id', '=', carol).execute()
      t.same(await db.selectFrom('refresh_tokens').select('id').where('user_id', '=', carol).execute(), [], 'tokens cascade')
    })
  }
})
