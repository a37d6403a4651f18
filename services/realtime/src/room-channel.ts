import type { Kysely } from 'kysely'
import type { BusMessage, BusSubscription, EventBus } from '@chat/bus'
import { envelopeHeaders, subjects } from '@chat/contracts'
import type { Database } from '@chat/db'
import { findRoomLastSeq, readRoomEvents, type StoredEventRow } from './events.repository.js'

/** A room event ready to go out: serialized once, the same bytes for every socket. */
export interface OutgoingEvent {
  readonly seq: number
  readonly type: string
  readonly bytes: Buffer
  /** For `participants.removed`: whose subscriptions end with this event. */
  readonly removedUserIds?: ReadonlySet<string>
}

/** Header on typing notices: who typed, so that their own sockets can skip it. */
export const typingUserHeader = 'Chat-User-Id'

/** What a channel hands its sockets. */
export interface ChannelMember {
  readonly userId: string
  deliver(event: OutgoingEvent): void
  deliverTyping(bytes: Buffer): void
  /** The channel cannot go on (the store is unreachable while a gap is open): resume elsewhere. */
  abort(reason: string): void
}

export interface ChannelLogger {
  warn(object: Record<string, unknown>, message: string): void
  error(object: Record<string, unknown>, message: string): void
}

export interface ChannelStats {
  duplicates: number
  gapFills: number
  catchUps: number
}

const gapFillPage = 500
/** Events waiting behind a gap; past this the room's sockets are sent to resume instead. */
const maxPending = 10_000

export function toOutgoingEvent(seq: number, type: string, bytes: Buffer): OutgoingEvent {
  if (type !== 'participants.removed') return { seq, type, bytes }
  return { seq, type, bytes, removedUserIds: removedUsersOf(bytes) }
}

function removedUsersOf(bytes: Buffer): ReadonlySet<string> {
  try {
    const frame = JSON.parse(bytes.toString('utf8')) as { users?: Array<{ id?: unknown }> }
    return new Set((frame.users ?? []).map((user) => String(user.id)))
  } catch {
    return new Set()
  }
}

export function storedRowToEvent(row: StoredEventRow): OutgoingEvent {
  return toOutgoingEvent(row.seq, row.type, Buffer.from(row.payload, 'utf8'))
}

/**
 * One room as this gateway sees it: a bus subscription on
 * `chat.room.<room_id>.>` held while local sockets watch the room, and the
 * room's event stream put back in order. An event with seq = last + 1 goes
 * out at once; a duplicate is dropped; an event past a gap waits until the
 * gap is filled from `room_events` (committed events are gapless: a room's
 * writers hold its row lock until commit).
 */
export class RoomChannel {
  readonly members = new Set<ChannelMember>()
  /** Seq of the last event sent to the members; -1 until the channel is open. */
  lastSeq = -1
  private subscription: BusSubscription | undefined
  private readonly early: OutgoingEvent[] = []
  private readonly pending = new Map<number, OutgoingEvent>()
  private filling = false
  private closed = false
  /** Set by {@link catchUp}: the store holds events up to this seq that the bus has not delivered. */
  private storedSeq = 0
  private seqAtLastCheck = -1

  constructor(
    readonly roomId: string,
    private readonly deps: {
      db: Kysely<Database>
      bus: EventBus
      logger: ChannelLogger
      stats: ChannelStats
      /** The channel can no longer keep order: its owner forgets it, so that the next subscriber opens a fresh one. */
      onBroken(channel: RoomChannel): void
    }
  ) {}

  /** Subscribes first, then reads the room's seq, so that nothing committed after the read is missed. */
  async open(): Promise<void> {
    const subscription = await this.deps.bus.subscribe(subjects.roomAll(this.roomId), (message) => this.onBusMessage(message))
    if (this.closed) {
      // Everyone left while the subscription was being set up.
      await subscription.unsubscribe()
      return
    }
    this.subscription = subscription
    const lastSeq = await findRoomLastSeq(this.deps.db, this.roomId)
    this.lastSeq = lastSeq ?? 0
    for (const event of this.early.splice(0)) this.accept(event)
  }

  async close(): Promise<void> {
    this.closed = true
    this.pending.clear()
    await this.subscription?.unsubscribe()
  }

  private onBusMessage(message: BusMessage): void {
    const data = message.data
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    const seqText = message.header(envelopeHeaders.seq)
    if (seqText === undefined) {
      if (message.subject.endsWith('.typing')) this.fanOutTyping(bytes, message.header(typingUserHeader))
      return
    }
    const seq = Number(seqText)
    const type = message.header(envelopeHeaders.type)
    if (!Number.isSafeInteger(seq) || seq < 1 || !type) {
      this.deps.logger.warn({ roomId: this.roomId, subject: message.subject }, 'room event without a valid envelope dropped')
      return
    }
    this.accept(toOutgoingEvent(seq, type, bytes))
  }

  private accept(event: OutgoingEvent): void {
    if (this.closed) return
    if (this.lastSeq < 0) {
      this.early.push(event)
      return
    }
    if (event.seq <= this.lastSeq) {
      this.deps.stats.duplicates++
      return
    }
    if (event.seq === this.lastSeq + 1 && !this.filling) {
      this.emit(event)
      this.emitPending()
      return
    }
    this.pending.set(event.seq, event)
    if (this.pending.size > maxPending) {
      this.deps.logger.error({ roomId: this.roomId, lastSeq: this.lastSeq }, 'too many events behind a gap; sockets must resume')
      this.abortAll('too many events behind a gap')
      return
    }
    if (!this.filling) void this.fillGaps()
  }

  /**
   * The store says the room's latest seq is `storedSeq`. Core NATS delivers
   * at most once (a reconnect, a slow consumer), so a quiet room could
   * otherwise miss its last events until the next one arrives. When the
   * channel has not moved since the previous check and the store is ahead,
   * the missing events are read from the store.
   */
  catchUp(storedSeq: number): void {
    const stalled = this.lastSeq === this.seqAtLastCheck
    this.seqAtLastCheck = this.lastSeq
    if (this.closed || this.lastSeq < 0 || storedSeq <= this.lastSeq || !stalled) return
    this.deps.stats.catchUps++
    this.storedSeq = Math.max(this.storedSeq, storedSeq)
    if (!this.filling) void this.fillGaps()
  }

  private emit(event: OutgoingEvent): void {
    this.lastSeq = event.seq
    for (const member of this.members) member.deliver(event)
  }

  private emitPending(): void {
    let next = this.pending.get(this.lastSeq + 1)
    while (next) {
      this.pending.delete(next.seq)
      this.emit(next)
      next = this.pending.get(this.lastSeq + 1)
    }
  }

  /** Reads what is missing before the earliest waiting event from the store, then lets the waiting events out. */
  private async fillGaps(): Promise<void> {
    this.filling = true
    try {
      while ((this.pending.size > 0 || this.storedSeq > this.lastSeq) && !this.closed) {
        this.emitPending()
        // Read up to the earliest waiting event, or up to the seq the store reported.
        let target = this.storedSeq > this.lastSeq ? this.storedSeq + 1 : Number.MAX_SAFE_INTEGER
        for (const seq of this.pending.keys()) {
          if (seq <= this.lastSeq) this.pending.delete(seq)
          else if (seq < target) target = seq
        }
        if (target === Number.MAX_SAFE_INTEGER) break
        this.deps.stats.gapFills++
        const rows = await readRoomEvents(this.deps.db, this.roomId, { afterSeq: this.lastSeq, beforeSeq: target, limit: gapFillPage })
        if (this.closed) return
        if (rows.length === 0 || rows[0]?.seq !== this.lastSeq + 1) {
          // The store no longer has the missing events (pruned): the members cannot be served without a hole.
          this.deps.logger.error({ roomId: this.roomId, afterSeq: this.lastSeq, target }, 'events missing from the store; sockets must resync')
          this.abortAll('events missing from the store')
          return
        }
        for (const row of rows) {
          if (row.seq !== this.lastSeq + 1) break
          this.emit(storedRowToEvent(row))
        }
      }
    } catch (error) {
      this.deps.logger.error({ err: error, roomId: this.roomId }, 'filling a gap from the store failed; sockets must resume')
      this.abortAll('the event store is unavailable')
    } finally {
      this.filling = false
    }
  }

  private abortAll(reason: string): void {
    this.deps.onBroken(this)
    void this.close()
    for (const member of [...this.members]) member.abort(reason)
  }

  private fanOutTyping(bytes: Buffer, userId: string | undefined): void {
    for (const member of this.members) if (member.userId !== userId) member.deliverTyping(bytes)
  }
}
