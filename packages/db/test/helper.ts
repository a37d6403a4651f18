import { Migrator } from 'kysely'
import type { Insertable, Kysely } from 'kysely'
import { randomUUID } from 'node:crypto'
import { migrations } from '../src/migrations/index.js'
import type { Database, MessagesTable } from '../src/schema.js'
import { createPgliteTestDatabase, createTestDatabase } from '../src/testing.js'
import type { TeardownHost } from '../src/testing.js'

export interface Engine {
  /** 'postgres' (a cloned test database) or 'pglite' (in memory). */
  name: string
  db: Kysely<Database>
}

/**
 * The same assertions run on both engines: the real server through the
 * testing helper, and an in-memory PGlite migrated with the same migrations.
 */
export async function openEngines(t: TeardownHost): Promise<Engine[]> {
  const server = await createTestDatabase(t)
  const pglite = await createPgliteTestDatabase(t)
  return [
    // Without a server (and without REQUIRE_INFRA) the helper falls back to PGlite too.
    { name: server.kind === 'postgres' ? 'postgres' : 'pglite (fallback)', db: server.db },
    { name: 'pglite', db: pglite.db }
  ]
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator takes any Kysely
export function migratorFor(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } })
}

export async function insertUser(db: Kysely<Database>, displayName = `user-${randomUUID().slice(0, 8)}`): Promise<string> {
  const { id } = await db
    .insertInto('users')
    .values({ display_name: displayName, display_name_key: displayName.normalize('NFC').toLowerCase(), password_hash: 'x' })
    .returning('id')
    .executeTakeFirstOrThrow()
  return id
}

export async function insertRoom(db: Kysely<Database>, createdBy: string): Promise<string> {
  const { id } = await db
    .insertInto('rooms')
    .values({ name: 'general', created_by: createdBy })
    .returning('id')
    .executeTakeFirstOrThrow()
  return id
}

export async function insertMessage(
  db: Kysely<Database>,
  values: Pick<Insertable<MessagesTable>, 'room_id' | 'seq' | 'sender_id'> & Partial<Insertable<MessagesTable>>
): Promise<string> {
  const id = values.id ?? randomUUID()
  await db.insertInto('messages').values({ text: 'hello', ...values, id }).execute()
  return id
}

/** The SQLSTATE and constraint of a failed query, the same way on pg and PGlite. */
export async function failureOf(query: Promise<unknown>): Promise<{ code?: string, constraint?: string }> {
  try {
    await query
  } catch (error) {
    const { code, constraint } = error as { code?: string, constraint?: string }
    return { code, constraint }
  }
  throw new Error('expected the query to fail')
}
