import { context, type Context, type Tracer } from '@opentelemetry/api'
import type { BusMessage, BusSubscription, EventBus } from '@chat/bus'
import { envelopeHeaders, subjects } from '@chat/contracts'
import type { RoomHistory, StoredEventRow } from './room-history.js'
import { RoomSequencer, type Offered } from './room-sequencer.js'

/** A room event ready to go out: serialized once, the same bytes for every socket. */
export interface OutgoingEvent {
  readonly seq: number
  readonly type: string
  readonly bytes: Buffer
  /** For `participants.removed`: whose subscriptions end with this event. */
  readonly removedUserIds?: ReadonlySet<string>
  /** When the event was committed (ms since the epoch, its envelope's time), for the delivery lag; live events only. */
  readonly time?: number
  /** The trace context of its receipt from the bus (only when tracing): its socket write is a span of that trace. */
  readonly trace?: Context
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

/** Told, once per live event, how long after its commit it was written to the room's sockets. */
export type DeliveryLagObserver = (seconds: number) => void

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
 * room's event stream put back in order by a {@link RoomSequencer}. An event
 * with seq = last + 1 goes out at once; a duplicate is dropped; an event past
 * a gap waits until the gap is filled from the room's history (committed
 * events are gapless: a room's writers hold its row lock until commit).
 */
export class RoomChannel {
  readonly members = new Set<ChannelMember>()
  private subscription: BusSubscription | undefined
  private readonly sequencer: RoomSequencer<OutgoingEvent>
  private closed = false

  constructor(
    readonly roomId: string,
    private readonly deps: {
      history: RoomHistory
      bus: EventBus
      logger: ChannelLogger
      stats: ChannelStats
      /** The delivery lag of each live event fanned out (the histogram of the metrics); absent in tests that do not look. */
      deliveryLag?: DeliveryLagObserver
      /** The process's tracer when it traces: socket writes and gap fills become spans of the event's trace. */
      tracer?: Tracer
      /** The channel can no longer keep order: its owner forgets it, so that the next subscriber opens a fresh one. */
      onBroken(channel: RoomChannel): void
    }
  ) {
    this.sequencer = new RoomSequencer((event) => this.fanOut(event), { maxWaiting: maxPending, onDuplicate: () => this.deps.stats.duplicates++ })
  }

  /** Seq of the last event sent to the members; -1 until the channel is open. */
  get lastSeq(): number {
    return this.sequencer.lastSeq
  }

  /** Subscribes first, then reads the room's seq, so that nothing committed after the read is missed. */
  async open(): Promise<void> {
    const subscription = await this.deps.bus.subscribe(subjects.roomAll(this.roomId), (message) => this.onBusMessage(message))
    if (this.closed) {
      // Everyone left while the subscription was being set up.
      await subscription.unsubscribe()
      return
    }
    this.subscription = subscription
    const lastSeq = await this.deps.history.lastSeq(this.roomId)
    if (this.closed) return
    this.sequencer.startAt(lastSeq ?? 0)
    this.afterOffer(this.sequencer.release())
  }

  async close(): Promise<void> {
    this.closed = true
    this.sequencer.clear()
    await this.subscription?.unsubscribe()
  }

  private onBusMessage(message: BusMessage): void {
    const data = message.data
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    const seqText = message.header(envelopeHeaders.seq)
    if (seqText === undefined) {
      if (message.subject.endsWith('.typing')) this.fanOutEphemeral(bytes, message.header(typingUserHeader))
      // Read receipts go to every socket of the room, the reader's other devices included (they clear their unread marks).
      else if (message.subject.endsWith('.read')) this.fanOutEphemeral(bytes, undefined)
      return
    }
    const seq = Number(seqText)
    const type = message.header(envelopeHeaders.type)
    if (!Number.isSafeInteger(seq) || seq < 1 || !type) {
      this.deps.logger.warn({ roomId: this.roomId, subject: message.subject }, 'room event without a valid envelope dropped')
      return
    }
    if (this.closed) return
    const event = toOutgoingEvent(seq, type, bytes)
    if (this.deps.deliveryLag) {
      // Only when someone observes the lag: parsing the time is the one extra cost per event.
      const time = Date.parse(message.header(envelopeHeaders.time) ?? '')
      if (!Number.isNaN(time)) (event as { time?: number }).time = time
    }
    // The bus received the message in a span of the trace its headers carried.
    if (this.deps.tracer) (event as { trace?: Context }).trace = context.active()
    this.afterOffer(this.sequencer.offer(event))
  }

  private afterOffer(offered: Offered): void {
    if (offered === 'gap') void this.fillGaps()
    else if (offered === 'overflow') {
      this.deps.logger.error({ roomId: this.roomId, lastSeq: this.sequencer.lastSeq }, 'too many events behind a gap; sockets must resume')
      this.abortAll('too many events behind a gap')
    }
  }

  /**
   * The store says the room's latest seq is `storedSeq`. Core NATS delivers
   * at most once (a reconnect, a slow consumer), so a quiet room could
   * otherwise miss its last events until the next one arrives. When the
   * channel has not moved since the previous check and the store is ahead,
   * the missing events are read from the store.
   */
  catchUp(storedSeq: number): void {
    if (this.closed || !this.sequencer.storeReports(storedSeq)) return
    this.deps.stats.catchUps++
    void this.fillGaps()
  }

  private fanOut(event: OutgoingEvent): void {
    const span = event.trace && this.deps.tracer?.startSpan('socket write', { attributes: { 'chat.room_id': this.roomId, 'chat.seq': event.seq, 'chat.sockets': this.members.size } }, event.trace)
    for (const member of this.members) member.deliver(event)
    span?.end()
    // After the loop: the frame is on every socket of this gateway (or queued behind what a slow one has not read).
    if (event.time !== undefined) this.deps.deliveryLag?.((Date.now() - event.time) / 1000)
  }

  /** Reads what is missing before the earliest waiting event from the store, then lets the waiting events out. Never rejects. */
  private fillGaps(): Promise<void> {
    const tracer = this.deps.tracer
    if (!tracer) return this.readMissing()
    // In the trace of the event that revealed the gap (none for a reconciliation's catch-up).
    return tracer.startActiveSpan('gap fill', { attributes: { 'chat.room_id': this.roomId } }, (span) => this.readMissing().finally(() => span.end()))
  }

  private async readMissing(): Promise<void> {
    if (!this.sequencer.beginRead()) return
    try {
      for (let missing = this.sequencer.nextRead(); missing && !this.closed; missing = this.sequencer.nextRead()) {
        this.deps.stats.gapFills++
        const rows = await this.deps.history.readAfter(this.roomId, { ...missing, limit: gapFillPage })
        if (this.closed) return
        if (rows[0]?.seq !== missing.afterSeq + 1) {
          // The store no longer has the missing events (pruned): the members cannot be served without a hole.
          this.deps.logger.error({ roomId: this.roomId, afterSeq: missing.afterSeq, target: missing.beforeSeq }, 'events missing from the store; sockets must resync')
          this.abortAll('events missing from the store')
          return
        }
        for (const row of rows) if (this.sequencer.fromStore(storedRowToEvent(row)) !== 'passed') break
      }
    } catch (error) {
      this.deps.logger.error({ err: error, roomId: this.roomId }, 'filling a gap from the store failed; sockets must resume')
      this.abortAll('the event store is unavailable')
    } finally {
      this.sequencer.endRead()
    }
  }

  private abortAll(reason: string): void {
    this.deps.onBroken(this)
    this.close().catch((error: unknown) => this.deps.logger.warn({ err: error, roomId: this.roomId }, 'unsubscribing a broken room failed'))
    for (const member of [...this.members]) member.abort(reason)
  }

  private fanOutEphemeral(bytes: Buffer, userId: string | undefined): void {
    for (const member of this.members) if (member.userId !== userId) member.deliverTyping(bytes)
  }
}
