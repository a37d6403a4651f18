import type { Kysely } from 'kysely'
import type { Database } from '@chat/db'
import type { BusMessage, EventBus } from '@chat/bus'

export async function seedRoom(db: Kysely<Database>, name = 'room'): Promise<{ roomId: string; userId: string }> {
  const user = await db
    .insertInto('users')
    .values({ display_name: `${name}-owner-${Math.random()}`, display_name_key: `${name}-owner-${Math.random()}`, password_hash: 'x' })
    .returning('id')
    .executeTakeFirstOrThrow()
  const room = await db.insertInto('rooms').values({ name, created_by: user.id }).returning('id').executeTakeFirstOrThrow()
  return { roomId: room.id, userId: user.id }
}

/** Collects what arrives on a pattern. */
export async function collect(bus: EventBus, pattern: string): Promise<BusMessage[]> {
  const received: BusMessage[] = []
  await bus.subscribe(pattern, (message) => { received.push(message) })
  return received
}

export { silentLogger, waitFor } from '@chat/service-kit/testing'
