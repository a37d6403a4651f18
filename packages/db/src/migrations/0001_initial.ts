// Frozen in time: this file must keep producing the same schema forever, so it
// uses Kysely<any> and imports nothing from the application. Change the schema
// with a new migration, never by editing this one.
/* eslint-disable @typescript-eslint/no-explicit-any -- a migration must not depend on today's Database types */
import { sql } from 'kysely'
import type { Kysely } from 'kysely'

// Foreign keys, deliberately:
// - Rows that only make sense inside a room (participants, avatar, messages,
//   events) and reactions inside a message go with it: ON DELETE CASCADE.
// - Refresh tokens belong to the user alone: ON DELETE CASCADE.
// - Everything a user left in a room's history (rooms they created, messages,
//   reactions, memberships) is RESTRICT: users are never deleted while they
//   own history, and anything that disappears from a room must go through the
//   application so that it writes the room event that tells the clients.
//   A cascade from users would silently rewrite rooms behind the event log.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('display_name', 'text', (col) => col.notNull())
    .addColumn('display_name_key', 'text', (col) => col.notNull())
    .addColumn('password_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('users_display_name_key_unique', ['display_name_key'])
    .execute()
  // The unique index uses the default operator class, which serves LIKE 'pre%'
  // only under the C collation; text_pattern_ops serves it under any collation.
  await sql`create index users_display_name_key_prefix_idx on users (display_name_key text_pattern_ops)`.execute(db)

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('family_id', 'uuid', (col) => col.notNull())
    .addColumn('token_hash', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('rotated_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addUniqueConstraint('refresh_tokens_token_hash_unique', ['token_hash'])
    .execute()
  // Re-use of a rotated token revokes its whole family; logout-everywhere
  // revokes by user.
  await db.schema.createIndex('refresh_tokens_family_id_idx').on('refresh_tokens').column('family_id').execute()
  await db.schema.createIndex('refresh_tokens_user_id_idx').on('refresh_tokens').column('user_id').execute()

  await db.schema
    .createTable('rooms')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_by', 'uuid', (col) => col.notNull().references('users.id').onDelete('restrict'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_seq', 'int8', (col) => col.notNull().defaultTo(0))
    .addColumn('last_activity_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('rooms_last_seq_check', sql`last_seq >= 0`)
    .execute()
  // A user's rooms are listed most recently active first, paged by
  // (last_activity_at, id); id breaks ties so the cursor is stable.
  await sql`create index rooms_last_activity_at_idx on rooms (last_activity_at desc, id desc)`.execute(db)

  await db.schema
    .createTable('room_participants')
    .addColumn('room_id', 'uuid', (col) => col.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('restrict'))
    .addColumn('role', 'text', (col) => col.notNull())
    .addColumn('joined_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_read_seq', 'int8', (col) => col.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('room_participants_pkey', ['room_id', 'user_id'])
    .addCheckConstraint('room_participants_role_check', sql`role in ('owner', 'member')`)
    .addCheckConstraint('room_participants_last_read_seq_check', sql`last_read_seq >= 0`)
    .execute()
  // The primary key serves "who is in this room"; this serves "which rooms is
  // this user in", and carries room_id so that answer needs no heap fetch.
  await db.schema
    .createIndex('room_participants_user_id_idx')
    .on('room_participants')
    .columns(['user_id', 'room_id'])
    .execute()

  await db.schema
    .createTable('room_avatars')
    .addColumn('room_id', 'uuid', (col) => col.primaryKey().references('rooms.id').onDelete('cascade'))
    .addColumn('bytes', 'bytea', (col) => col.notNull())
    .addColumn('content_type', 'text', (col) => col.notNull())
    .addColumn('width', 'int4', (col) => col.notNull())
    .addColumn('height', 'int4', (col) => col.notNull())
    .addColumn('size', 'int4', (col) => col.notNull())
    .addColumn('etag', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('room_avatars_width_check', sql`width > 0`)
    .addCheckConstraint('room_avatars_height_check', sql`height > 0`)
    .addCheckConstraint('room_avatars_size_check', sql`size > 0`)
    .execute()

  await db.schema
    .createTable('messages')
    // UUIDv7 made by the application (time-ordered), hence no default.
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('room_id', 'uuid', (col) => col.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('seq', 'int8', (col) => col.notNull())
    .addColumn('sender_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('restrict'))
    .addColumn('text', 'text', (col) => col.notNull())
    .addColumn('client_msg_id', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('edited_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    // Also the index for history pages: messages by (room_id, seq).
    .addUniqueConstraint('messages_room_id_seq_unique', ['room_id', 'seq'])
    // Idempotent sends: a retried send with the same client_msg_id conflicts
    // instead of duplicating. NULLs are distinct, so sends without one never do.
    .addUniqueConstraint('messages_room_id_sender_id_client_msg_id_unique', ['room_id', 'sender_id', 'client_msg_id'])
    .addCheckConstraint('messages_seq_check', sql`seq > 0`)
    .execute()

  await db.schema
    .createTable('reactions')
    .addColumn('message_id', 'uuid', (col) => col.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('restrict'))
    .addColumn('reaction', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // One reaction per user and message; the key also serves "reactions of a message".
    .addPrimaryKeyConstraint('reactions_pkey', ['message_id', 'user_id'])
    .execute()

  await db.schema
    .createTable('room_events')
    .addColumn('room_id', 'uuid', (col) => col.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('seq', 'int8', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('published_at', 'timestamptz')
    // Also the index for catch-up reads: events by (room_id, seq).
    .addPrimaryKeyConstraint('room_events_pkey', ['room_id', 'seq'])
    .addCheckConstraint('room_events_seq_check', sql`seq > 0`)
    .execute()
  // The relay scans only what is still unpublished, oldest first; published
  // rows (nearly all of them) stay out of this index.
  await sql`create index room_events_unpublished_idx on room_events (created_at) where published_at is null`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  // Children before parents, so no cascade is needed.
  for (const table of [
    'room_events',
    'reactions',
    'messages',
    'room_avatars',
    'room_participants',
    'rooms',
    'refresh_tokens',
    'users'
  ]) {
    await db.schema.dropTable(table).ifExists().execute()
  }
}
