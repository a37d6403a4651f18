import { chatEventsStreamSubjects } from '@chat/contracts'
import { BusClosedError, NoRespondersError, RequestTimeoutError } from './errors.js'
import {
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MSG_ID_HEADER,
  type BusMessage,
  type BusSubscription,
  type EventBus,
  type HandlerErrorContext,
  type HandlerErrorListener,
  type MessageHandler,
  type PublishOptions,
  type PublishResult,
  type RequestHandler,
  type RequestOptions,
  type SubscribeOptions
} from './port.js'
import type { Tracer } from '@opentelemetry/api'
import { assertPublishSubject, assertSubscribePattern, subjectMatches } from './subject-match.js'
import { withTracing } from './tracing.js'

export interface InProcessBusOptions {
  /**
   * Subjects that behave like the JetStream stream's: `stored: true` and msgId
   * de-duplication. Defaults to the CHAT_EVENTS subjects.
   */
  streamSubjects?: readonly string[]
  /** Defaults to {@link DEFAULT_DUPLICATE_WINDOW_MS}, like the stream. */
  duplicateWindowMs?: number
  /** Called when a handler throws; defaults to console.error. */
  onError?: HandlerErrorListener
  /** Clock for the dedupe window (tests). */
  now?: () => number
  /** The process's tracer when it traces (the standalone process): messages carry the trace context as over NATS. */
  tracer?: Tracer
}

interface Envelope {
  readonly subject: string
  readonly data: Uint8Array
  readonly headers: ReadonlyMap<string, string>
  /** Set on requests: the first call answers the requester. */
  readonly reply?: (data: Uint8Array) => void
}

interface Member {
  readonly pattern: string
  readonly queue: string | undefined
  readonly handle: (envelope: Envelope) => Promise<void>
  readonly pending: Envelope[]
  /** False once unsubscribed or draining: takes no new messages. */
  active: boolean
  /** The running delivery loop, if any. */
  pump: Promise<void> | undefined
}

interface OutstandingRequest {
  fail(error: Error): void
}

/**
 * An EventBus inside one process, for tests and the single-process build. It
 * mirrors the NATS adapter: asynchronous delivery in publish order, one
 * message at a time per subscription, queue groups, request/reply with
 * no-responders detection, and JetStream-like msgId de-duplication.
 */
export function createInProcessBus(options: InProcessBusOptions = {}): EventBus {
  const bus = untracedInProcessBus(options)
  return options.tracer ? withTracing(bus, options.tracer) : bus
}

function untracedInProcessBus(options: InProcessBusOptions): EventBus {
  const streamSubjects = [...(options.streamSubjects ?? chatEventsStreamSubjects)]
  const now = options.now ?? Date.now
  const dedupe = new DedupeWindow(options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS, now)
  const onError: HandlerErrorListener = options.onError ?? ((error, context) => {
    console.error(`bus handler failed (${context.kind} ${context.pattern}, subject ${context.subject})`, error)
  })
  const members = new Set<Member>()
  const outstanding = new Set<OutstandingRequest>()
  const roundRobin = new Map<string, number>()
  let state: 'open' | 'draining' | 'closed' = 'open'
  let draining: Promise<void> | undefined
  let inboxSeq = 0

  const assertOpen = (): void => {
    if (state === 'closed') throw new BusClosedError()
  }
  const assertAcceptingSubscriptions = (): void => {
    if (state !== 'open') throw new BusClosedError(state === 'draining' ? 'bus is draining' : undefined)
  }

  const report = (error: unknown, context: HandlerErrorContext): void => {
    try {
      onError(error, context)
    } catch {
      // A failing error listener must not stop delivery either.
    }
  }

  /** Hands the message to its recipients; returns how many there were. */
  const route = (envelope: Envelope): number => {
    const groups = new Map<string, Member[]>()
    let count = 0
    for (const member of members) {
      if (!member.active || !subjectMatches(member.pattern, envelope.subject)) continue
      if (member.queue === undefined) {
        enqueue(member, envelope)
        count++
      } else {
        const group = groups.get(member.queue)
        if (group) group.push(member)
        else groups.set(member.queue, [member])
      }
    }
    // Like the NATS server, one member per queue name, whatever pattern it used.
    for (const [queue, group] of groups) {
      const turn = roundRobin.get(queue) ?? 0
      roundRobin.set(queue, turn + 1)
      const chosen = group[turn % group.length]
      if (chosen) {
        enqueue(chosen, envelope)
        count++
      }
    }
    return count
  }

  const enqueue = (member: Member, envelope: Envelope): void => {
    member.pending.push(envelope)
    member.pump ??= pump(member)
  }

  const pump = async (member: Member): Promise<void> => {
    // Never run handlers inside publish(): callers must not depend on it.
    await new Promise<void>((resolve) => setImmediate(resolve))
    let envelope: Envelope | undefined
    while ((envelope = member.pending.shift()) !== undefined) {
      await member.handle(envelope)
    }
    member.pump = undefined
  }

  const listen = (pattern: string, queue: string | undefined, handle: Member['handle']): BusSubscription => {
    const member: Member = { pattern, queue, handle, pending: [], active: true, pump: undefined }
    members.add(member)
    return {
      unsubscribe: async () => {
        member.active = false
        member.pending.length = 0
        members.delete(member)
      }
    }
  }

  const finishClose = (): void => {
    state = 'closed'
    for (const member of members) {
      member.active = false
      member.pending.length = 0
    }
    members.clear()
    for (const request of outstanding) request.fail(new BusClosedError())
    outstanding.clear()
  }

  return {
    async publish(subject: string, data: Uint8Array, publishOptions: PublishOptions = {}): Promise<PublishResult> {
      assertOpen()
      assertPublishSubject(subject)
      const stored = streamSubjects.some((pattern) => subjectMatches(pattern, subject))
      const headers = new Map(Object.entries(publishOptions.headers ?? {}))
      let duplicate = false
      if (stored && publishOptions.msgId) {
        duplicate = dedupe.seen(publishOptions.msgId)
        headers.set(MSG_ID_HEADER, publishOptions.msgId)
      }
      // A duplicate is still delivered, as with NATS: core subscribers see every
      // publish, only the stream drops it. Consumers drop duplicates by seq.
      route({ subject, data: data.slice(), headers })
      // Unacknowledged (confirm: 'none'), the caller learns nothing, as over NATS.
      return publishOptions.confirm === 'none' ? { stored: false, duplicate: false } : { stored, duplicate }
    },

    async subscribe(pattern: string, handler: MessageHandler, subscribeOptions: SubscribeOptions = {}): Promise<BusSubscription> {
      assertAcceptingSubscriptions()
      assertSubscribePattern(pattern)
      return listen(pattern, subscribeOptions.queue, async (envelope) => {
        try {
          await handler(toMessage(envelope))
        } catch (error) {
          report(error, { kind: 'subscribe', pattern, subject: envelope.subject })
        }
      })
    },

    async serve(subject: string, handler: RequestHandler, subscribeOptions: SubscribeOptions = {}): Promise<BusSubscription> {
      assertAcceptingSubscriptions()
      assertSubscribePattern(subject)
      return listen(subject, subscribeOptions.queue, async (envelope) => {
        try {
          const reply = await handler(toMessage(envelope))
          envelope.reply?.(reply)
        } catch (error) {
          report(error, { kind: 'serve', pattern: subject, subject: envelope.subject })
        }
      })
    },

    async request(subject: string, data: Uint8Array, requestOptions: RequestOptions = {}): Promise<BusMessage> {
      assertOpen()
      assertPublishSubject(subject)
      const timeoutMs = requestOptions.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
      const inbox = `_INBOX.${++inboxSeq}`
      return new Promise<BusMessage>((resolve, reject) => {
        let done = false
        const settle = (error: Error | undefined, reply?: BusMessage): void => {
          if (done) return
          done = true
          clearTimeout(timer)
          outstanding.delete(request)
          if (error) reject(error)
          else if (reply) resolve(reply)
        }
        const request: OutstandingRequest = { fail: (error) => settle(error) }
        const timer = setTimeout(() => settle(new RequestTimeoutError(subject, timeoutMs)), timeoutMs)
        outstanding.add(request)
        const recipients = route({
          subject,
          data: data.slice(),
          headers: new Map(Object.entries(requestOptions.headers ?? {})),
          reply: (bytes) => settle(undefined, toMessage({ subject: inbox, data: bytes.slice(), headers: new Map() }))
        })
        if (recipients === 0) settle(new NoRespondersError(subject))
      })
    },

    async ping(): Promise<void> {
      assertOpen()
    },

    // Delivery is queued at publish(): everything published before is taken.
    async flush(): Promise<void> {
      assertOpen()
    },

    drain(): Promise<void> {
      if (state === 'closed') return Promise.resolve()
      draining ??= (async () => {
        state = 'draining'
        // Messages already queued are still handled, as NATS does for messages
        // it had received before the drain.
        for (const member of members) member.active = false
        for (;;) {
          const running = [...members].map((member) => member.pump).filter((p) => p !== undefined)
          if (running.length === 0) break
          await Promise.all(running)
        }
        finishClose()
      })()
      return draining
    },

    async close(): Promise<void> {
      finishClose()
    }
  }
}

function toMessage(envelope: Envelope): BusMessage {
  const { subject, headers } = envelope
  return {
    subject,
    // Each receiver gets its own bytes, as over the network.
    data: envelope.data.slice(),
    header: (name) => headers.get(name)
  }
}

/** Remembers msgIds for a fixed window from their first publish, like JetStream. */
class DedupeWindow {
  readonly #expiry = new Map<string, number>()
  readonly #windowMs: number
  readonly #now: () => number

  constructor(windowMs: number, now: () => number) {
    this.#windowMs = windowMs
    this.#now = now
  }

  /** True when `id` was seen within the window; records it otherwise. */
  seen(id: string): boolean {
    const now = this.#now()
    // Insertion order is expiry order, so expired ids are at the front.
    for (const [key, expiresAt] of this.#expiry) {
      if (expiresAt > now) break
      this.#expiry.delete(key)
    }
    if (this.#expiry.has(id)) return true
    this.#expiry.set(id, now + this.#windowMs)
    return false
  }
}
