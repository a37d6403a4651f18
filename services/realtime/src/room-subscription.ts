import type { ServerFrame } from '@chat/contracts'
import { socketCloses, type SocketClose } from './errors.js'
import type { ChannelMember, OutgoingEvent } from './room-channel.js'
import { RoomSequencer, type Offered } from './room-sequencer.js'

export interface SubscriptionLogger {
  warn(object: Record<string, unknown>, message: string): void
  error(object: Record<string, unknown>, message: string): void
}

/** What a subscription needs of its socket's session. */
export interface SubscriptionOwner {
  readonly log: SubscriptionLogger
  readonly stats: { eventsSent: number }
  /** Queues bytes unless the send queue would overflow (which closes the socket); false when not sent. */
  sendBytes(bytes: Buffer): boolean
  sendFrame(frame: ServerFrame): boolean
  /** Live bytes held while the subscription replays count against the send queue. */
  holdBytes(bytes: number): void
  releaseBytes(bytes: number): void
  closeWith(close: SocketClose): void
  /** A `participants.removed` event named the socket's user. */
  removedFrom(subscription: RoomSubscription): void
}

/**
 * One socket's subscription to one room. It joins the room's channel before
 * it reads the store: live events wait in its sequencer while stored ones are
 * replayed, then go out after `subscribed` without a gap or a duplicate,
 * whichever path an event came by.
 */
export class RoomSubscription implements ChannelMember {
  /** The participation check passed: typing notices may go out. */
  admitted = false
  ended = false
  /** The room's seq when participation was checked: a removal after it ends the subscription. */
  checkedSeq = Number.MAX_SAFE_INTEGER
  private heldBytes = 0
  private readonly order: RoomSequencer<OutgoingEvent>

  constructor(
    private readonly owner: SubscriptionOwner,
    readonly roomId: string,
    readonly userId: string
  ) {
    this.order = new RoomSequencer((event) => this.send(event))
  }

  /** Seq of the last event this socket was sent for the room (or skipped to on a resync). */
  get sentSeq(): number {
    return this.order.lastSeq
  }

  /** Where the socket stands: the resume point, or the room's seq when the client resyncs or starts fresh. */
  startAt(seq: number): void {
    this.order.startAt(seq)
  }

  deliver(event: OutgoingEvent): void {
    if (this.ended) return
    const offered = this.order.offer(event)
    if (offered === 'held') {
      this.heldBytes += event.bytes.length
      this.owner.holdBytes(event.bytes.length)
    } else if (offered === 'gap' || offered === 'overflow') this.outOfOrder(event)
  }

  /** A stored event of the replay: sent if it is the next one; false when the subscription cannot go on. */
  replay(event: OutgoingEvent): boolean {
    if (this.ended) return false
    const offered = this.order.fromStore(event)
    if (offered === 'gap') this.outOfOrder(event)
    return !this.ended
  }

  /** Ends the replay: `subscribed`, then the live events that waited. */
  goLive(): void {
    if (this.ended) return
    this.owner.sendFrame({ type: 'subscribed', room_id: this.roomId, last_seq: this.order.lastSeq })
    this.owner.releaseBytes(this.heldBytes)
    this.heldBytes = 0
    const offered: Offered = this.order.release()
    if (offered === 'gap' || offered === 'overflow') this.outOfOrder(undefined)
  }

  /** Ends the subscription's claim on the socket (unsubscribed, refused, removed or closed). */
  end(): void {
    this.ended = true
    this.owner.releaseBytes(this.heldBytes)
    this.heldBytes = 0
    this.order.clear()
  }

  deliverTyping(bytes: Buffer): void {
    if (!this.order.isHolding && !this.ended) this.owner.sendBytes(bytes)
  }

  abort(reason: string): void {
    this.owner.log.warn({ roomId: this.roomId, reason }, 'room stream interrupted; closing the socket so that it resumes')
    this.owner.closeWith(socketCloses.resumeRequired)
  }

  private send(event: OutgoingEvent): void {
    if (this.ended || !this.owner.sendBytes(event.bytes)) return
    this.owner.stats.eventsSent++
    if (event.removedUserIds?.has(this.userId) && event.seq > this.checkedSeq) this.owner.removedFrom(this)
  }

  /** The channel and the replay never skip; if this happens, the client must resume. */
  private outOfOrder(event: OutgoingEvent | undefined): void {
    this.owner.log.error({ roomId: this.roomId, sentSeq: this.order.lastSeq, seq: event?.seq }, 'event out of order for a socket')
    this.owner.closeWith(socketCloses.resumeRequired)
  }
}
