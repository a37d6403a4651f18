// The benchmark's data: users with tokens and the rooms of each scenario, in
// a database of its own, and the socket each client worker opens.
import type { Kysely } from 'kysely'
import type { Database } from '@chat/db'
import type { TokenSigner } from '@chat/service-kit'
import type { SocketSpec } from './clients.js'
import { shape, type BenchConfig } from './config.js'

export type BenchUser = SocketSpec['user'] & { token: string }

export interface Fixture {
  users: BenchUser[]
  roomA: string
  roomsOfB: string[]
  specsA: SocketSpec[]
  specsB: SocketSpec[]
  specsMemory: SocketSpec[]
}

async function createUsers(db: Kysely<Database>, signer: TokenSigner, count: number): Promise<BenchUser[]> {
  const users: BenchUser[] = []
  for (let from = 0; from < count; from += 1000) {
    const rows = await db
      .insertInto('users')
      .values(Array.from({ length: Math.min(1000, count - from) }, (_, index) => ({
        display_name: `bench-${from + index}`,
        display_name_key: `bench-${from + index}`,
        password_hash: 'x'
      })))
      .returning(['id', 'display_name', 'created_at'])
      .execute()
    for (const row of rows) {
      users.push({ id: row.id, display_name: row.display_name, created_at: row.created_at.toISOString(), token: signer.sign({ id: row.id, displayName: row.display_name }).token })
    }
  }
  return users
}

async function createRoom(db: Kysely<Database>, name: string, members: BenchUser[]): Promise<string> {
  const { id } = await db.insertInto('rooms').values({ name, created_by: members[0]!.id }).returning('id').executeTakeFirstOrThrow()
  for (let from = 0; from < members.length; from += 1000) {
    await db
      .insertInto('room_participants')
      .values(members.slice(from, from + 1000).map((member, index) => ({ room_id: id, user_id: member.id, role: from + index === 0 ? ('owner' as const) : ('member' as const) })))
      .execute()
  }
  return id
}

const spec = (user: BenchUser, roomId: string): SocketSpec => ({
  roomId,
  token: user.token,
  user: { id: user.id, display_name: user.display_name, created_at: user.created_at }
})

/**
 * A's 1000 sockets are 1000 users in one room; B's 1000 are the same users,
 * 10 to a room; the memory run's sockets are one per user, 10 users a room.
 */
export async function createFixture(db: Kysely<Database>, signer: TokenSigner, config: BenchConfig): Promise<Fixture> {
  const { socketsA, roomsB, socketsPerRoomB, socketsPerRoomMemory } = shape
  const users = await createUsers(db, signer, Math.max(socketsA, roomsB * socketsPerRoomB, config.memorySockets))
  const roomA = await createRoom(db, 'bench A', users.slice(0, socketsA))
  const roomsOfB: string[] = []
  for (let room = 0; room < roomsB; room++) roomsOfB.push(await createRoom(db, `bench B ${room}`, users.slice(room * socketsPerRoomB, (room + 1) * socketsPerRoomB)))
  const roomsOfMemory: string[] = []
  for (let room = 0; room * socketsPerRoomMemory < config.memorySockets; room++) {
    roomsOfMemory.push(await createRoom(db, `bench M ${room}`, users.slice(room * socketsPerRoomMemory, (room + 1) * socketsPerRoomMemory)))
  }
  return {
    users,
    roomA,
    roomsOfB,
    specsA: users.slice(0, socketsA).map((user) => spec(user, roomA)),
    specsB: users.slice(0, roomsB * socketsPerRoomB).map((user, index) => spec(user, roomsOfB[Math.floor(index / socketsPerRoomB)]!)),
    specsMemory: users.slice(0, config.memorySockets).map((user, index) => spec(user, roomsOfMemory[Math.floor(index / socketsPerRoomMemory)]!))
  }
}
