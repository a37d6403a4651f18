// Group commit of sends. Every send (POST or a socket's svc.messages.send)
// waits here for the next batch: while one batch is in the database, the
// sends that arrive queue up, and the next batch takes them all (up to
// `maxBatch`) in one statement and one commit (chat_send_messages, migration
// 0002). At low load a batch is one send and leaves at once; under load the
// commit, lock and round-trip costs are paid per batch, not per message.
//
// One batch at a time by default (SEND_BATCHES_IN_FLIGHT). With two in the
// database, each is about half the size, so the function is called twice as
// often: each call has a fixed cost (530 to 680 µs of PostgreSQL's CPU in
// bench:send-sql, as much as five sends), and on a machine that the database
// shares with the services, that CPU is what the sends wait for. At
// saturation (bench:send, three invocations measuring one and two in
// flight side by side) one against two gave 1.06, 1.09 and 0.96 times the
// sends/s, the same within the noise; at 1000 msg/s (bench:realtime) the
// machine was about 10 points of 200 less busy. More than one can pay where
// the database's commits are slow to flush: one batch's flush then overlaps
// the next batch's work. The retry of a failed batch, one send at a time,
// runs its sends side by side, outside this limit.
import { context, trace, type Context, type Tracer } from '@opentelemetry/api'
import { uuidv7, type PublishableEvent, type RoomEventPublisher } from '@chat/room-events'
import { isDependencyFailure } from '@chat/service-kit'
import type { Message } from '@chat/contracts'
import type { AppError } from '@chat/service-kit'
import { messagesErrors } from './errors.js'
import type { SendBatchItem, SendBatchOutcome } from './messages.repository.js'
import type { MentionNotifier } from './mention-notices.js'
import { mentionTokens } from './mentions.js'

export interface SendRequest {
  roomId: string
  senderId: string
  text: string
  clientMsgId?: string
  /** A message of the same room; the reply joins that message's thread. */
  replyTo?: string
  /** User ids the client mentions besides the text's `@` tokens. */
  mentions?: readonly string[]
  requestId?: string
}

/** What a send became: stored now (201), or a repeat of a stored `client_msg_id` (200, the stored message, loaded by the caller). */
export type SendAnswer = { kind: 'created'; message: Message } | { kind: 'repeat'; clientMsgId: string }

export interface SendBatcherOptions {
  /** Runs one batch (the repository's `runSendBatch` on the service's database). */
  run: (items: readonly SendBatchItem[]) => Promise<SendBatchOutcome[]>
  publisher: RoomEventPublisher
  /** Tells mentioned users after commit. */
  notifyMentions: MentionNotifier
  /** Longest text after trimming, in code points. */
  maxTextChars: number
  /** Most sends in one batch (default 128). */
  maxBatch?: number
  /** Batches in the database at once (default 1: the next fills while one commits). */
  maxInFlight?: number
  logger: { error(fields: Record<string, unknown>, message: string): void }
  /** When the process traces: each batch is a span (in the first send's trace, linked to the others), each event published in its send's trace. */
  tracer?: Tracer
}

interface Pending {
  request: SendRequest
  item: Omit<SendBatchItem, 'ord' | 'check_only'>
  /** Why the text cannot be stored; the batch still checks room and membership first (api.md's order). */
  textProblem: AppError | undefined
  resolve: (answer: SendAnswer) => void
  reject: (error: unknown) => void
  /** The trace context of the send (only when tracing). */
  traceContext?: Context
}

// With the u flag a pair is one code point: only a lone surrogate matches.
const LONE_SURROGATE = /\p{Surrogate}/u

/** Why `text` cannot be stored, if it cannot: blank, too long, or characters PostgreSQL refuses (NUL, lone surrogates). */
export function textProblem(text: string, maxChars: number): AppError | undefined {
  const trimmed = text.trim()
  if (trimmed === '') return messagesErrors.invalidText('must not be blank')
  // Counting code points only matters near the limit; .length is an upper bound.
  if (trimmed.length > maxChars && [...trimmed].length > maxChars) return messagesErrors.invalidText(`must be at most ${maxChars} characters after trimming`)
  if (text.includes('\u0000') || LONE_SURROGATE.test(text)) return messagesErrors.invalidCharacters()
  return undefined
}

export class SendBatcher {
  private queue: Pending[] = []
  private inFlight = 0
  private scheduled = false
  private readonly maxBatch: number
  private readonly maxInFlight: number

  constructor(private readonly options: SendBatcherOptions) {
    this.maxBatch = options.maxBatch ?? 128
    this.maxInFlight = options.maxInFlight ?? 1
  }

  /** Stores the send with the next batch; resolves once it is committed (never before). */
  submit(request: SendRequest): Promise<SendAnswer> {
    const createdAt = new Date()
    return new Promise<SendAnswer>((resolve, reject) => {
      this.queue.push({
        request,
        item: {
          id: uuidv7(createdAt.getTime()),
          room_id: request.roomId,
          sender_id: request.senderId,
          text: request.text,
          client_msg_id: request.clientMsgId ?? null,
          created_at: createdAt.toISOString(),
          reply_to: request.replyTo ?? null,
          mention_tokens: mentionTokens(request.text),
          mention_ids: request.mentions ?? []
        },
        textProblem: textProblem(request.text, this.options.maxTextChars),
        resolve,
        reject,
        ...(this.options.tracer ? { traceContext: context.active() } : {})
      })
      this.schedule()
    })
  }

  /**
   * Starts a batch after the current turn of the event loop, so that the
   * sends read from sockets in this turn go together.
   */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.startBatch()
    })
  }

  private startBatch(): void {
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return
    const batch = this.queue.splice(0, this.maxBatch)
    this.inFlight++
    void this.runBatch(batch).finally(() => {
      this.inFlight--
      this.schedule()
    })
    this.schedule()
  }

  private runBatch(batch: Pending[]): Promise<void> {
    const tracer = this.options.tracer
    if (!tracer) return this.commitBatch(batch)
    const parent = batch[0]?.traceContext ?? context.active()
    const span = tracer.startSpan(
      'messages send batch',
      {
        attributes: { 'chat.batch.sends': batch.length },
        links: batch.slice(1).flatMap((pending) => {
          const linked = pending.traceContext && trace.getSpanContext(pending.traceContext)
          return linked ? [{ context: linked }] : []
        })
      },
      parent
    )
    return context.with(trace.setSpan(parent, span), () => this.commitBatch(batch)).finally(() => span.end())
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    let outcomes: SendBatchOutcome[]
    try {
      outcomes = await this.options.run(
        batch.map((pending, ord) =>
          // A text that cannot be stored is not sent at all (PostgreSQL would refuse the whole batch for a NUL).
          pending.textProblem === undefined
            ? { ...pending.item, ord, check_only: false }
            : { ...pending.item, text: '', mention_tokens: [], ord, check_only: true }
        )
      )
    } catch (error) {
      if (batch.length > 1 && !isDependencyFailure(error)) {
        // Something in one send broke the statement for all: each alone, so only it fails.
        this.options.logger.error({ err: error, sends: batch.length }, 'a send batch failed; retrying its sends one by one')
        await Promise.all(batch.map((pending) => this.runBatch([pending])))
        return
      }
      for (const pending of batch) pending.reject(error)
      return
    }
    const created: PublishableEvent[] = []
    const messages = new Map<number, Message>()
    for (const outcome of outcomes) {
      const pending = batch[outcome.ord]!
      if (outcome.status === 'created') {
        const frame = JSON.parse(outcome.payload) as { message: Message }
        messages.set(outcome.ord, frame.message)
        created.push({ roomId: pending.item.room_id, seq: outcome.seq, type: 'message.created', payload: Buffer.from(outcome.payload), createdAt: new Date(pending.item.created_at), requestId: pending.request.requestId, traceContext: pending.traceContext })
      }
    }
    // Acknowledged once committed, not once published: the publisher sends
    // in the background and the relay covers what it could not.
    if (created.length > 0) void this.options.publisher.publish(created)
    for (const message of messages.values()) {
      if (message.mentions.length > 0) this.options.notifyMentions(message, message.mentions.map((user) => user.id))
    }
    for (const outcome of outcomes) {
      const pending = batch[outcome.ord]!
      switch (outcome.status) {
        case 'no_room':
          pending.reject(messagesErrors.roomNotFound())
          break
        case 'outsider':
          pending.reject(messagesErrors.notAMember())
          break
        case 'checked':
          pending.reject(pending.textProblem)
          break
        case 'no_reply_to':
          pending.reject(messagesErrors.replyToNotFound())
          break
        case 'created':
          pending.resolve({ kind: 'created', message: messages.get(outcome.ord)! })
          break
        case 'repeat':
        case 'repeat_in_batch':
          pending.resolve({ kind: 'repeat', clientMsgId: pending.item.client_msg_id! })
          break
      }
    }
  }
}
