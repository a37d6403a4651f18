import { CHAT_EVENTS_STREAM, chatEventsStreamSubjects, subjects } from '@chat/contracts'
import {
  PermissionViolationError,
  headers as natsHeaders,
  type ConnectionOptions,
  type Msg,
  type NatsConnection,
  type Subscription
} from '@nats-io/nats-core'
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamPublishOptions } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import type { Tracer } from '@opentelemetry/api'
import { BusClosedError, PublishRefusedError, RequestTimeoutError } from './errors.js'
import { mapError, toBusMessage, toNatsHeaders } from './nats-convert.js'
import { ensureStream, type StreamLimits } from './nats-stream.js'
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  MSG_ID_HEADER,
  type BusLogger,
  type BusMessage,
  type BusStats,
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
import { assertPublishSubject, assertSubscribePattern, subjectMatches } from './subject-match.js'
import { inReceiveSpan, inSendSpan } from './tracing.js'
import { logStatus } from './nats-status.js'

export interface NatsBusOptions {
  /** For example `nats://127.0.0.1:4222`; several servers of a cluster separated by commas. */
  url: string
  /** Connection name shown by the server (monitoring). */
  name?: string
  /** Subjects of the CHAT_EVENTS stream; defaults to `chatEventsStreamSubjects`. */
  streamSubjects?: readonly string[]
  /**
   * Use another stream than CHAT_EVENTS (isolated tests). Takes precedence over
   * `streamSubjects`.
   */
  stream?: { name: string; subjects: readonly string[] }
  logger?: BusLogger
  /** Called when a handler throws; defaults to `logger.error`, else console.error. */
  onError?: HandlerErrorListener
  limits?: StreamLimits
  /**
   * Whether this connection creates the stream and applies `limits` (default
   * true). Processes that only subscribe to core subjects (the gateway) leave
   * the stream to the writers, so that settings are not fought over.
   */
  manageStream?: boolean
  /**
   * Keep trying (with a backoff up to 5 s, each failure logged) until the
   * server answers and the stream is in place, instead of rejecting: a
   * service started while NATS is down waits for it rather than exiting.
   */
  waitForServer?: boolean
  /**
   * A user of the server's `authorization` block. The connection's inbox
   * becomes `_INBOX.<user>` (replies and JetStream acks arrive there), so that
   * the server's permissions can give each user its own replies only.
   */
  credentials?: { user: string; password: string }
  /**
   * TLS: the CA that signed the servers' certificates (TLS is then required),
   * and a client certificate and key for servers that verify clients. Files,
   * read again at every (re)connect, so renewed certificates are picked up.
   */
  tls?: { caFile?: string; certFile?: string; keyFile?: string }
  /**
   * The process's tracer, when it traces: publishes and requests get a span
   * and carry its W3C trace context in their headers; messages that carry one
   * are received and served in a span of the same trace. Without it the bus
   * does no tracing work at all.
   */
  tracer?: Tracer
}

/** The NATS EventBus, with the raw connection for what the port does not cover. */
export interface NatsBus extends EventBus {
  readonly connection: NatsConnection
  readonly streamName: string
  readonly stats: Readonly<BusStats>
}

const PING_TIMEOUT_MS = 2_000

/**
 * Connects to NATS and makes sure the event stream exists with the expected
 * subjects. Rejects when the server is unreachable or JetStream is off.
 */
export async function connectNatsBus(options: NatsBusOptions): Promise<NatsBus> {
  const streamName = options.stream?.name ?? CHAT_EVENTS_STREAM
  const streamSubjects = [...(options.stream?.subjects ?? options.streamSubjects ?? chatEventsStreamSubjects)]
  const servers = options.url.split(',').map((server) => server.trim()).filter(Boolean)
  for (let attempt = 1; ; attempt++) {
    let nc: NatsConnection | undefined
    try {
      nc = await connect(connectionOptions(servers, options))
      if (options.manageStream !== false) await ensureStream(await jetstreamManager(nc), streamName, streamSubjects, options.limits ?? {}, options.logger)
      return new NatsEventBus(nc, streamName, streamSubjects, options)
    } catch (error) {
      await nc?.close().catch(() => undefined)
      if (!options.waitForServer) throw error
      const delayMs = Math.min(5_000, 500 * attempt)
      const fields = { err: error, servers: servers.map(withoutPassword), attempt, retryInMs: delayMs }
      if (options.logger) options.logger.warn(fields, 'NATS or its JetStream is not available yet; waiting')
      else console.error(`NATS not available yet (attempt ${attempt}): ${error instanceof Error ? error.message : String(error)}`)
      await new Promise((wake) => setTimeout(wake, delayMs))
    }
  }
}

function connectionOptions(servers: string[], options: NatsBusOptions): ConnectionOptions {
  return {
    servers,
    name: options.name,
    // Services outlive NATS restarts: keep reconnecting instead of closing after 10 tries.
    maxReconnectAttempts: -1,
    // A refused password (rotated on the server first) must not end reconnecting
    // for good: the pod would stay up with a dead bus until someone restarts it.
    ignoreAuthErrorAbort: true,
    ...(options.credentials
      ? { user: options.credentials.user, pass: options.credentials.password, inboxPrefix: subjects.inboxPrefix(options.credentials.user) }
      : {}),
    ...(options.tls ? { tls: { ...options.tls } } : {})
  }
}

/** A server URL fit for a log line: a password written into it is masked. */
function withoutPassword(server: string): string {
  return server.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}

interface Listener {
  readonly sub: Subscription
  /** Set by unsubscribe()/close(): messages already buffered are skipped. */
  stopped: boolean
  loop: Promise<void>
}

class NatsEventBus implements NatsBus {
  readonly connection: NatsConnection
  readonly streamName: string
  readonly stats: BusStats = { publishFailures: 0, connected: true, reconnects: 0 }
  readonly #js: JetStreamClient
  readonly #streamSubjects: string[]
  readonly #onError: HandlerErrorListener
  readonly #tracer: Tracer | undefined
  readonly #listeners = new Set<Listener>()
  #draining: Promise<void> | undefined
  #refusedPublishes = 0
  #lastRefusedSubject = ''

  constructor(nc: NatsConnection, streamName: string, streamSubjects: string[], options: NatsBusOptions) {
    this.connection = nc
    this.streamName = streamName
    this.#js = jetstream(nc)
    this.#streamSubjects = streamSubjects
    this.#tracer = options.tracer
    const logger = options.logger
    this.#onError = options.onError ?? ((error, context) => {
      if (logger) logger.error({ err: error, ...context }, 'bus handler failed')
      else console.error(`bus handler failed (${context.kind} ${context.pattern}, subject ${context.subject})`, error)
    })
    void this.#watchStatus(logger)
    void nc.closed().then(() => {
      this.stats.connected = false
    })
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    const tracer = this.#tracer
    if (!tracer) return this.#publish(subject, data, options)
    return inSendSpan(tracer, 'publish', subject, options.headers, options.msgId, (headers) => this.#publish(subject, data, { ...options, headers }))
  }

  async #publish(subject: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    if (this.connection.isClosed()) {
      this.stats.publishFailures++
      throw new BusClosedError()
    }
    assertPublishSubject(subject)
    const headers = toNatsHeaders(options.headers)
    try {
      if (options.confirm !== 'none' && this.#streamSubjects.some((pattern) => subjectMatches(pattern, subject))) {
        const publishOptions: Partial<JetStreamPublishOptions> = {}
        if (options.msgId) publishOptions.msgID = options.msgId
        if (headers) publishOptions.headers = headers
        // A duplicate is acked with duplicate:true and not stored again, but core
        // subscribers still receive it (the stream only listens like any other
        // subscriber). Consumers drop duplicates by seq.
        const ack = await this.#js.publish(subject, data, publishOptions)
        return { stored: true, duplicate: ack.duplicate }
      }
      // Unacknowledged: a stream subject is still stored, and de-duplicated by
      // the same header that js.publish() would have set.
      let sent = headers
      if (options.msgId) {
        sent ??= natsHeaders()
        sent.set(MSG_ID_HEADER, options.msgId)
      }
      this.connection.publish(subject, data, sent ? { headers: sent } : undefined)
      return { stored: false, duplicate: false }
    } catch (error) {
      // A refusal by permissions is counted where the server reports it (the status loop).
      const refused = error instanceof PermissionViolationError || (error instanceof Error && error.cause instanceof PermissionViolationError)
      if (!refused) this.stats.publishFailures++
      throw mapError(error, subject, 0)
    }
  }

  subscribe(pattern: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<BusSubscription> {
    const tracer = this.#tracer
    return this.#listen(pattern, options.queue, 'subscribe', async (msg) => {
      const message = toBusMessage(msg)
      // Only messages that carry a trace (room events, send requests): typing notices stay untraced.
      if (tracer && msg.headers?.has('traceparent')) await inReceiveSpan(tracer, 'receive', msg.subject, (name) => message.header(name), async () => handler(message))
      else await handler(message)
    })
  }

  serve(subject: string, handler: RequestHandler, options: SubscribeOptions = {}): Promise<BusSubscription> {
    const tracer = this.#tracer
    return this.#listen(subject, options.queue, 'serve', async (msg) => {
      const message = toBusMessage(msg)
      const reply = tracer && msg.headers?.has('traceparent') ? await inReceiveSpan(tracer, 'process', msg.subject, (name) => message.header(name), async () => handler(message)) : await handler(message)
      // A plain publish to a served subject has nobody to answer.
      if (msg.reply) msg.respond(reply)
    })
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions = {}): Promise<BusMessage> {
    const tracer = this.#tracer
    if (!tracer) return this.#request(subject, data, options)
    return inSendSpan(tracer, 'request', subject, options.headers, undefined, (headers) => this.#request(subject, data, { ...options, headers }))
  }

  async #request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    this.#assertOpen()
    assertPublishSubject(subject)
    const timeout = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    const headers = toNatsHeaders(options.headers)
    try {
      const reply = await this.connection.request(subject, data, headers ? { timeout, headers } : { timeout })
      return toBusMessage(reply)
    } catch (error) {
      throw mapError(error, subject, timeout)
    }
  }

  async ping(): Promise<void> {
    this.#assertOpen()
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RequestTimeoutError('PING', PING_TIMEOUT_MS)), PING_TIMEOUT_MS)
    })
    try {
      // While disconnected, flush waits for the reconnect: bound it for /readyz.
      await Promise.race([this.connection.flush(), timedOut])
    } catch (error) {
      throw mapError(error, 'PING', PING_TIMEOUT_MS)
    } finally {
      clearTimeout(timer)
    }
  }

  async flush(): Promise<void> {
    const refusedBefore = this.#refusedPublishes
    await this.ping()
    // The server's -ERR for a refused publish comes before the PONG that
    // answers a later PING; the status loop that counts it runs on promise
    // turns, all of which are done by the next macrotask.
    await new Promise((resolve) => setImmediate(resolve))
    if (this.#refusedPublishes !== refusedBefore) throw new PublishRefusedError(this.#lastRefusedSubject)
  }

  drain(): Promise<void> {
    if (this.connection.isClosed()) return Promise.resolve()
    this.#draining ??= (async () => {
      const listeners = [...this.#listeners]
      // nc.drain() alone would close the connection without waiting for our
      // handler loops; drain our subscriptions first so handlers in flight can
      // still publish and reply, then drain the connection.
      await Promise.allSettled(listeners.filter((l) => !l.sub.isClosed()).map((l) => l.sub.drain()))
      await Promise.allSettled(listeners.map((l) => l.loop))
      this.#listeners.clear()
      if (!this.connection.isClosed()) await this.connection.drain()
    })()
    return this.#draining
  }

  async close(): Promise<void> {
    for (const listener of this.#listeners) listener.stopped = true
    this.#listeners.clear()
    if (!this.connection.isClosed()) await this.connection.close()
  }

  async #listen(pattern: string, queue: string | undefined, kind: HandlerErrorContext['kind'], handle: (msg: Msg) => Promise<void>): Promise<BusSubscription> {
    if (this.connection.isClosed()) throw new BusClosedError()
    if (this.#draining) throw new BusClosedError('bus is draining')
    assertSubscribePattern(pattern)
    let sub: Subscription
    try {
      sub = this.connection.subscribe(pattern, queue === undefined ? undefined : { queue })
    } catch (error) {
      throw mapError(error, pattern, 0)
    }
    const listener: Listener = { sub, stopped: false, loop: Promise.resolve() }
    listener.loop = (async () => {
      // One message at a time, in order: the next waits for the handler.
      for await (const msg of sub) {
        if (listener.stopped) continue
        try {
          await handle(msg)
        } catch (error) {
          this.#report(error, { kind, pattern, subject: msg.subject })
        }
      }
    })().catch((error: unknown) => {
      // The iterator fails on a permissions violation; nothing more will come.
      this.#report(error, { kind, pattern, subject: pattern })
    })
    this.#listeners.add(listener)
    // The server has registered the interest once the flush returns, so a
    // publish from any connection right after subscribe() is delivered.
    try {
      await this.connection.flush()
    } catch (error) {
      throw mapError(error, pattern, 0)
    }
    return {
      unsubscribe: async () => {
        if (listener.stopped) return
        listener.stopped = true
        this.#listeners.delete(listener)
        if (this.connection.isClosed() || sub.isClosed()) return
        sub.unsubscribe()
        // Let the server see the UNSUB before the caller goes on.
        await this.connection.flush().catch(() => undefined)
      }
    }
  }

  #assertOpen(): void {
    if (this.connection.isClosed()) throw new BusClosedError()
  }

  #report(error: unknown, context: HandlerErrorContext): void {
    try {
      this.#onError(error, context)
    } catch {
      // A failing error listener must not stop delivery.
    }
  }

  /** Keeps {@link stats} up to date and logs the connection's ups and downs when there is a logger. */
  async #watchStatus(logger: BusLogger | undefined): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'error' && status.error instanceof PermissionViolationError && status.error.operation === 'publish') {
        // Unacknowledged publishes learn of it only here (flush() rejects); acknowledged ones also fail on their own.
        this.#refusedPublishes++
        this.#lastRefusedSubject = status.error.subject
        this.stats.publishFailures++
      }
      if (status.type === 'disconnect') this.stats.connected = false
      else if (status.type === 'reconnect') {
        this.stats.connected = true
        this.stats.reconnects++
      }
      if (logger) logStatus(logger, status)
    }
  }
}
