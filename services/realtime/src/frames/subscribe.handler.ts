import { frameErrors, socketCloses } from '../errors.js'
import type { RoomAccess } from '../room-history.js'
import { replayStored } from '../room-replay.js'
import { RoomSubscription } from '../room-subscription.js'
import type { FrameHandler, FrameSession } from './frame-session.js'

export const onSubscribe: FrameHandler<'subscribe'> = (session, frame) => {
  const ref = frame.ref ?? null
  if (session.roomId !== undefined) {
    session.sendError(ref, frameErrors.notSupported, frame.room_id)
    return
  }
  const { maxRoomsPerSocket } = session.context.settings
  if (!session.subscriptions.has(frame.room_id) && session.subscriptions.size >= maxRoomsPerSocket) {
    session.sendError(ref, frameErrors.tooManyRooms(maxRoomsPerSocket), frame.room_id)
    return
  }
  subscribeRoom(session, frame.room_id, frame.after_seq, ref)
}

/** Subscribes the socket to a room (a subscribe frame, or a room socket's own room); failures close the socket. */
export function subscribeRoom(session: FrameSession, roomId: string, afterSeq: number | undefined, ref: string | null): void {
  const previous = session.subscriptions.get(roomId)
  if (previous) session.endSubscription(previous)
  const subscription = new RoomSubscription(session, roomId, session.user?.id ?? '')
  session.subscriptions.set(roomId, subscription)
  subscribe(session, subscription, afterSeq, ref).catch((error: unknown) => failed(session, subscription, error))
}

/** The store or the bus is failing: the client reconnects with backoff and resumes every room. */
function failed(session: FrameSession, subscription: RoomSubscription, error: unknown): void {
  if (subscription.ended) return
  session.log.error({ err: error, roomId: subscription.roomId }, 'subscribing a socket failed')
  session.endSubscription(subscription)
  session.closeWith(socketCloses.unavailable)
}

/**
 * Joins the room's channel (live events start waiting), checks
 * participation, replays stored events after `afterSeq`, then goes live.
 * Joining before reading the store is what makes the hand-over gapless:
 * everything committed before the read is in the replay, everything after
 * it arrives on the channel, and seq drops the overlap.
 */
async function subscribe(session: FrameSession, subscription: RoomSubscription, afterSeq: number | undefined, ref: string | null): Promise<void> {
  const { context, subscribeTurns } = session
  const { roomId, userId } = subscription
  await subscribeTurns.take()
  try {
    if (subscription.ended) return
    // Refuse outsiders before taking a bus subscription for them.
    const early = await context.history.accessOf(roomId, userId)
    if (subscription.ended) return
    if (early.kind !== 'participant') return refuse(session, subscription, early.kind, ref)
    await withTimeout(context.join(subscription, roomId), context.settings.joinTimeoutMs, 'joining the room timed out')
    if (subscription.ended) return
    // Checked again after joining: this read's seq is where the replay hands over to the live stream.
    const access = await context.history.accessOf(roomId, userId)
    if (subscription.ended) return
    if (access.kind !== 'participant') return refuse(session, subscription, access.kind, ref)
    subscription.checkedSeq = access.lastSeq
    subscription.admitted = true
    if (afterSeq === undefined) {
      subscription.startAt(access.lastSeq)
    } else if (afterSeq > access.lastSeq || access.lastSeq - afterSeq > context.settings.maxReplayEvents) {
      resync(session, subscription, access.lastSeq)
    } else {
      subscription.startAt(afterSeq)
      const replayed = await replayStored(context.history, subscription, access.lastSeq, session, {
        sendQueueBytes: context.settings.sendQueueBytes,
        stats: context.stats
      })
      // The resume point is older than the kept history.
      if (replayed === 'resync') resync(session, subscription, access.lastSeq)
    }
    subscription.goLive()
  } catch (error) {
    // Before the next subscribe gets its turn: a closing socket starts no more reads.
    failed(session, subscription, error)
  } finally {
    subscribeTurns.done()
  }
}

function refuse(session: FrameSession, subscription: RoomSubscription, kind: Exclude<RoomAccess['kind'], 'participant'>, ref: string | null): void {
  session.endSubscription(subscription)
  if (session.roomId !== undefined) session.closeWith(kind === 'no_room' ? socketCloses.noSuchRoom : socketCloses.notAParticipant)
  else session.sendError(ref, kind === 'no_room' ? frameErrors.roomNotFound : frameErrors.notAMember, subscription.roomId)
}

/** The client reloads the room over HTTP; the live stream goes on from the room's seq. */
function resync(session: FrameSession, subscription: RoomSubscription, lastSeq: number): void {
  session.context.stats.resyncs++
  session.sendFrame({ type: 'resync_required', room_id: subscription.roomId })
  subscription.startAt(lastSeq)
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
