import type { RoomEventFrame } from '@chat/contracts'

interface RoomState {
  /** The seq of the last event delivered to listeners (or the resume point given). */
  lastSeq: number | undefined
  /** The room's latest seq according to the last `subscribed` frame. */
  serverLastSeq: number | undefined
  /** After resync_required: events are held back until reset. */
  resync: boolean
}

/**
 * Where a socket stands in each room it follows: the last seq delivered, and
 * whether the room waits for a reset after `resync_required`. It decides what
 * happens to each arriving event, without a socket: deliver it, drop it (a
 * duplicate, or a room that is not followed or is held back), or start over
 * (a gap, which the gateway never sends).
 */
export class RoomPositions {
  readonly #rooms = new Map<string, RoomState>()

  /** Follows a room from `afterSeq`, else from where it already was; the seq to resume after. */
  follow(roomId: string, afterSeq?: number): number | undefined {
    const existing = this.#rooms.get(roomId)
    const lastSeq = afterSeq ?? existing?.lastSeq
    this.#rooms.set(roomId, { lastSeq, serverLastSeq: existing?.serverLastSeq, resync: false })
    return lastSeq
  }

  /** Stops following a room; false when it was not followed. */
  forget(roomId: string): boolean {
    return this.#rooms.delete(roomId)
  }

  has(roomId: string): boolean {
    return this.#rooms.has(roomId)
  }

  lastSeq(roomId: string): number | undefined {
    return this.#rooms.get(roomId)?.lastSeq
  }

  /** Every followed room with the seq to resume after. */
  resumePoints(): Array<[roomId: string, lastSeq: number | undefined]> {
    return [...this.#rooms].map(([roomId, room]) => [roomId, room.lastSeq])
  }

  roomIds(): IterableIterator<string> {
    return this.#rooms.keys()
  }

  /** After `resync_required` and the app's reload: continue from `lastSeq`. False for a room not followed. */
  reset(roomId: string, lastSeq: number): boolean {
    const room = this.#rooms.get(roomId)
    if (!room) return false
    room.lastSeq = lastSeq
    room.resync = false
    return true
  }

  /** A `subscribed` frame; false for a room not followed. */
  subscribed(roomId: string, serverLastSeq: number): boolean {
    const room = this.#rooms.get(roomId)
    if (!room) return false
    room.serverLastSeq = serverLastSeq
    // Without a resume point, the stream starts after the room's latest
    // seq. With one, the replayed events came before this frame. After
    // resync_required, events stay held back until reset: the app's
    // reload decides where the room continues, and the gateway replays
    // from there, so nothing is emitted twice.
    if (room.lastSeq === undefined && !room.resync) room.lastSeq = serverLastSeq
    return true
  }

  /** A `resync_required` frame: the room's events wait for {@link reset}. False for a room not followed. */
  holdForResync(roomId: string): boolean {
    const room = this.#rooms.get(roomId)
    if (!room) return false
    room.resync = true
    return true
  }

  /** What to do with an arriving event; `deliver` counts it as delivered. */
  accept(frame: RoomEventFrame): 'deliver' | 'drop' | 'gap' {
    const room = this.#rooms.get(frame.room_id)
    if (!room || room.resync) return 'drop'
    if (room.lastSeq !== undefined) {
      if (frame.seq <= room.lastSeq) return 'drop'
      if (frame.seq > room.lastSeq + 1) return 'gap'
    }
    room.lastSeq = frame.seq
    return 'deliver'
  }
}
