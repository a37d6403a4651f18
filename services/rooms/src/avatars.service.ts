import type { Kysely } from 'kysely'
import type { Avatar } from '@chat/contracts'
import type { Database } from '@chat/db'
import { requireParticipant, type RoomEventPublisher } from '@chat/room-events'
import { deleteAvatar, findAvatar, upsertAvatar, type AvatarImage } from './avatars.repository.js'
import { roomErrors } from './errors.js'
import { processAvatar, type AvatarLimits } from './image.js'
import { appendRoomUpdated, refuseDirectRoom, requireAdmin } from './rooms.service.js'

/** Runs at most a number of tasks at once; the others wait in order. */
export interface Semaphore {
  run<T>(task: () => Promise<T>): Promise<T>
  /** Tasks waiting for a slot now. */
  readonly waiting: number
}

/** A task that found `maxWaiting` others already waiting: nothing of it ran. */
export class QueueFullError extends Error {}

/**
 * `slots` tasks at a time; up to `maxWaiting` more wait in order, and any
 * beyond that are refused with QueueFullError at once (each waiter holds
 * its upload, so an unbounded queue is unbounded memory).
 */
export function createSemaphore(slots: number, maxWaiting = Number.POSITIVE_INFINITY): Semaphore {
  let free = slots
  const waiting: Array<() => void> = []
  return {
    get waiting() {
      return waiting.length
    },
    async run(task) {
      if (free > 0) free -= 1
      else if (waiting.length >= maxWaiting) throw new QueueFullError(`${waiting.length} tasks are already waiting`)
      else await new Promise<void>((resolve) => waiting.push(resolve))
      try {
        return await task()
      } finally {
        const next = waiting.shift()
        if (next) next()
        else free += 1
      }
    }
  }
}

/** What the avatar operations need. */
export interface AvatarsContext {
  db: Kysely<Database>
  publisher: RoomEventPublisher
  imageLimits: AvatarLimits
  /** Decoding is the memory-hungry step (up to 4 bytes a pixel): it runs under this semaphore, whose queue is bounded. */
  decoding: Semaphore
}

export interface AvatarInput {
  roomId: string
  userId: string
  requestId?: string
}

/**
 * Re-encodes an upload as the room's avatar and publishes `room.updated`.
 * `readUpload` runs only after the membership check: an outsider's upload is
 * never read.
 */
export async function setAvatar(
  context: AvatarsContext,
  input: AvatarInput & { readUpload: () => Promise<Buffer | undefined> }
): Promise<{ avatar: Avatar; uploadBytes: number }> {
  const { db, publisher } = context
  const { roomId, userId } = input
  const access = await requireParticipant(db, roomId, userId)
  // A direct room shows its participants, not a picture of its own.
  refuseDirectRoom(access)
  requireAdmin(access, 'set the avatar')
  const upload = await input.readUpload()
  if (!upload || upload.length === 0) throw roomErrors.avatarMissing()
  let image: Awaited<ReturnType<typeof processAvatar>>
  try {
    image = await context.decoding.run(() => processAvatar(upload, context.imageLimits))
  } catch (error) {
    if (error instanceof QueueFullError) throw roomErrors.avatarQueueFull()
    throw error
  }
  const { avatar, event } = await db.transaction().execute(async (trx) => {
    // Demoted or removed while the upload was read and decoded.
    requireAdmin(await requireParticipant(trx, roomId, userId, { lock: true }), 'set the avatar')
    const avatar = await upsertAvatar(trx, roomId, image)
    return { avatar, event: await appendRoomUpdated(trx, roomId) }
  })
  await publisher.publish([event], input.requestId)
  return { avatar, uploadBytes: upload.length }
}

/** The avatar image of a room, for a participant. */
export async function getAvatar(context: AvatarsContext, input: AvatarInput): Promise<AvatarImage> {
  await requireParticipant(context.db, input.roomId, input.userId)
  const avatar = await findAvatar(context.db, input.roomId)
  if (!avatar) throw roomErrors.avatarNotSet()
  return avatar
}

/** Removes the room's avatar and publishes `room.updated`. */
export async function removeAvatar(context: AvatarsContext, input: AvatarInput): Promise<void> {
  const { db, publisher } = context
  const event = await db.transaction().execute(async (trx) => {
    const access = await requireParticipant(trx, input.roomId, input.userId, { lock: true })
    refuseDirectRoom(access)
    requireAdmin(access, 'remove the avatar')
    if (!(await deleteAvatar(trx, input.roomId))) throw roomErrors.avatarNotSet()
    return appendRoomUpdated(trx, input.roomId)
  })
  await publisher.publish([event], input.requestId)
}
