/** Anything with a room seq: the sequencer looks at nothing else. */
export interface Sequenced {
  readonly seq: number
}

/**
 * What became of an event offered to a sequencer:
 * - `passed`: it was the next one and went on (with any waiting ones it unblocked);
 * - `duplicate`: its seq was passed already;
 * - `held`: the sequencer holds live events (no start position yet, or a replay is running);
 * - `gap`: events before it are missing; it waits for them;
 * - `overflow`: like `gap`, but more events wait than the limit allows.
 */
export type Offered = 'passed' | 'duplicate' | 'held' | 'gap' | 'overflow'

/** The events missing before the earliest waiting one: `afterSeq < seq < beforeSeq`. */
export interface MissingRange {
  readonly afterSeq: number
  readonly beforeSeq: number
}

/**
 * One room's events put in seq order, without I/O: the gateway's channel (one
 * per watched room) and each socket's subscription use one each.
 *
 * It starts holding: live events are kept until {@link startAt} gives the
 * position and {@link release} lets them go, so that a subscription can join
 * the live stream before it reads the store and hand over without a gap.
 * Events read from the store ({@link fromStore}) pass while live ones are
 * held. After the release an event passes when its seq is the next one, is
 * dropped when its seq was passed, and waits behind a gap otherwise; the owner
 * fills the gap from the store ({@link beginRead}, {@link nextRead}) or, for a
 * socket, which must never see a gap, gives up.
 */
export class RoomSequencer<E extends Sequenced> {
  private position = -1
  private holding = true
  // Both made on first use: a socket's subscription usually needs neither,
  // and an idle socket should cost as little memory as possible.
  private held: E[] | undefined
  private waiting: Map<number, E> | undefined
  private reading = false
  /** The store holds events up to this seq that the live stream has not brought ({@link storeReports}). */
  private storeSeq = 0
  private positionAtLastReport = -1

  private readonly maxWaiting: number
  private readonly onDuplicate: (() => void) | undefined

  constructor(
    private readonly pass: (event: E) => void,
    options: {
      /** Events that may wait behind a gap; past it the offer answers `overflow`. Default 10 000. */
      maxWaiting?: number
      /** Called for each live event dropped as a duplicate, held ones included. */
      onDuplicate?: () => void
    } = {}
  ) {
    this.maxWaiting = options.maxWaiting ?? 10_000
    this.onDuplicate = options.onDuplicate
  }

  /** Seq of the last event passed on; -1 until {@link startAt}. */
  get lastSeq(): number {
    return this.position
  }

  /** True until {@link release}: live events are kept, not passed. */
  get isHolding(): boolean {
    return this.holding
  }

  /** A live event. */
  offer(event: E): Offered {
    if (this.holding || this.position < 0) {
      ;(this.held ??= []).push(event)
      return 'held'
    }
    return this.order(event)
  }

  /**
   * Sets the position: everything up to `seq` counts as passed. Also how a
   * subscription skips ahead when its client is told to resync.
   */
  startAt(seq: number): void {
    this.position = seq
  }

  /** Stops holding: the held events go through the ordering, oldest first. */
  release(): Offered {
    this.holding = false
    const held = this.held
    this.held = undefined
    let outcome: Offered = 'passed'
    for (const event of held ?? []) {
      const offered = this.order(event)
      if (offered === 'overflow') return offered
      if (offered === 'gap') outcome = offered
    }
    return outcome
  }

  /** An event read from the store (replay or gap fill): it passes if it is the next one, held live events or not. */
  fromStore(event: E): Offered {
    if (event.seq <= this.position) return 'duplicate'
    if (event.seq !== this.position + 1) return 'gap'
    this.passOn(event)
    this.passWaiting()
    return 'passed'
  }

  /**
   * Starts a read of missing events from the store; false when one is
   * running already. Until {@link endRead}, live events wait even when they
   * are next, so that the stored ones come back still in order.
   */
  beginRead(): boolean {
    if (this.reading) return false
    this.reading = true
    return true
  }

  endRead(): void {
    this.reading = false
  }

  /** What to read next from the store, or undefined when nothing is missing (waiting events that became next are passed first). */
  nextRead(): MissingRange | undefined {
    this.passWaiting()
    let beforeSeq = this.storeSeq > this.position ? this.storeSeq + 1 : Number.MAX_SAFE_INTEGER
    for (const seq of this.waiting?.keys() ?? []) {
      if (seq <= this.position) this.waiting?.delete(seq)
      else if (seq < beforeSeq) beforeSeq = seq
    }
    if (beforeSeq === Number.MAX_SAFE_INTEGER) return undefined
    return { afterSeq: this.position, beforeSeq }
  }

  /**
   * The store says the room's latest seq is `storeSeq`. Core NATS delivers at
   * most once, so a quiet room could miss its last events until the next one
   * comes. True when nothing passed since the previous report and the store
   * is ahead: the owner then reads the missing events ({@link nextRead} asks
   * up to `storeSeq`).
   */
  storeReports(storeSeq: number): boolean {
    const stalled = this.position === this.positionAtLastReport
    this.positionAtLastReport = this.position
    if (this.position < 0 || storeSeq <= this.position || !stalled) return false
    this.storeSeq = Math.max(this.storeSeq, storeSeq)
    return true
  }

  /** Forgets every held and waiting event. */
  clear(): void {
    this.held = undefined
    this.waiting = undefined
  }

  private order(event: E): Offered {
    if (event.seq <= this.position) {
      this.onDuplicate?.()
      return 'duplicate'
    }
    if (event.seq === this.position + 1 && !this.reading) {
      this.passOn(event)
      this.passWaiting()
      return 'passed'
    }
    const waiting = (this.waiting ??= new Map())
    waiting.set(event.seq, event)
    return waiting.size > this.maxWaiting ? 'overflow' : 'gap'
  }

  private passOn(event: E): void {
    this.position = event.seq
    this.pass(event)
  }

  private passWaiting(): void {
    const waiting = this.waiting
    if (!waiting || waiting.size === 0) return
    let next = waiting.get(this.position + 1)
    while (next) {
      waiting.delete(next.seq)
      this.passOn(next)
      next = waiting.get(this.position + 1)
    }
  }
}
