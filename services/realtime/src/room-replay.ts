import { storedRowToEvent } from './room-channel.js'
import type { RoomHistory } from './room-history.js'
import type { RoomSubscription } from './room-subscription.js'

const replayPage = 500

/** The socket side of a replay: its send queue. */
export interface ReplaySocket {
  readonly bufferedAmount: number
  /** Waits until the send queue is short again; a peer that does not read for long is closed as too slow. */
  drained(): Promise<void>
}

/**
 * Sends the stored events after the subscription's position up to at least
 * `untilSeq`, page by page, waiting for the socket to drain between events
 * rather than overflowing it. `resync` when the resume point is older than
 * the kept history (the first stored event is not the next one).
 */
export async function replayStored(
  history: RoomHistory,
  subscription: RoomSubscription,
  untilSeq: number,
  socket: ReplaySocket,
  options: { sendQueueBytes: number; stats: { eventsReplayed: number } }
): Promise<'replayed' | 'resync'> {
  let first = true
  while (subscription.sentSeq < untilSeq && !subscription.ended) {
    const rows = await history.readAfter(subscription.roomId, { afterSeq: subscription.sentSeq, limit: replayPage })
    if (subscription.ended) break
    if (first && rows[0]?.seq !== subscription.sentSeq + 1) return 'resync'
    first = false
    if (rows.length === 0) break
    for (const row of rows) {
      const event = storedRowToEvent(row)
      // Only a peer that stops reading is too slow: a replay waits for it.
      if (socket.bufferedAmount > 0 && socket.bufferedAmount + event.bytes.length > options.sendQueueBytes) await socket.drained()
      if (!subscription.replay(event)) return 'replayed'
    }
    options.stats.eventsReplayed += rows.length
    if (rows.length < replayPage) break
  }
  return 'replayed'
}
