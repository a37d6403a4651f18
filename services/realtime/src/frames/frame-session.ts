import type { FastifyBaseLogger } from 'fastify'
import type { ClientFrame, User } from '@chat/contracts'
import type { FrameError } from '../errors.js'
import type { SessionContext } from '../gateway-context.js'
import type { RoomSubscription, SubscriptionOwner } from '../room-subscription.js'
import type { TypingNotices } from '../typing-notices.js'

export type ClientFrameOf<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>

/** Handles one kind of client frame of an authenticated socket (Centrifuge's `…Cmd` handlers). */
export type FrameHandler<T extends ClientFrame['type']> = (session: FrameSession, frame: ClientFrameOf<T>) => void

/** At most `limit` at a time; the others wait their turn, first come first served. */
export class Turns {
  private running = 0
  private waiting: Array<() => void> | undefined

  constructor(private readonly limit: number) {}

  async take(): Promise<void> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => (this.waiting ??= []).push(resolve))
    this.running++
  }

  done(): void {
    this.running--
    this.waiting?.shift()?.()
  }
}

/** What the frame handlers see of a socket's session. */
export interface FrameSession extends SubscriptionOwner {
  readonly context: SessionContext
  /** The room of a `/ws/chat/:room_id/` socket; undefined on `/ws/`. */
  readonly roomId: string | undefined
  readonly user: User | undefined
  readonly requestId: string
  readonly log: FastifyBaseLogger
  readonly subscriptions: Map<string, RoomSubscription>
  readonly typing: TypingNotices
  /** A few subscribes at a time per socket: each may replay thousands of events. */
  readonly subscribeTurns: Turns
  readonly bufferedAmount: number
  drained(): Promise<void>
  sendError(ref: string | null, error: FrameError, roomId?: string): void
  endSubscription(subscription: RoomSubscription): void
}
