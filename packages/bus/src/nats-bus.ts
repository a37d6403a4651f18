import { CHAT_EVENTS_STREAM, chatEventsStreamSubjects } from '@chat/contracts'
import {
  ClosedConnectionError,
  DrainingConnectionError,
  RequestError,
  TimeoutError,
  headers as natsHeaders,
  nanos,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription
} from '@nats-io/nats-core'
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  type StreamConfig,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JetStreamPublishOptions
} from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { BusClosedError, NoRespondersError, RequestTimeoutError } from './errors.js'
import {
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
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
import { assertPublishSubject, assertSubscribePattern, subjectMatches } from './subject-match.js'

/** The subset of a pino logger the adapter uses. */
export interface BusLogger {
  info(object: Record<string, unknown>, message: string): void
  warn(object: Record<string, unknown>, message: string): void
  error(object: Record<string, unknown>, message: string): void
}

/** Limits of the event stream, applied when it is created and whenever they differ from what the server has. */
export interface StreamLimits {
  /** Copies of each message in a JetStream cluster (1..5). */
  replicas?: number
  /** Messages older than this are discarded (0: kept until another limit applies). */
  maxAgeMs?: number
  /** The oldest messages are discarded past this size (-1: unlimited). */
  maxBytes?: number
}

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
}

/** The NATS EventBus, with the raw connection for what the port does not cover. */
export interface NatsBus extends EventBus {
  readonly connection: NatsConnection
  readonly streamName: string
}

const PING_TIMEOUT_MS = 2_000
// JetStream API error "stream name already in use" (with a different config).
const STREAM_NAME_IN_USE = 10058

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
      // Services outlive NATS restarts: keep reconnecting instead of closing after 10 tries.
      nc = await connect({ servers, name: options.name, maxReconnectAttempts: -1 })
      if (options.manageStream !== false) await ensureStream(await jetstreamManager(nc), streamName, streamSubjects, options.limits ?? {}, options.logger)
      return new NatsEventBus(nc, streamName, streamSubjects, options)
    } catch (error) {
      await nc?.close().catch(() => undefined)
      if (!options.waitForServer) throw error
      const delayMs = Math.min(5_000, 500 * attempt)
      const fields = { err: error, servers, attempt, retryInMs: delayMs }
      if (options.logger) options.logger.warn(fields, 'NATS or its JetStream is not available yet; waiting')
      else console.error(`NATS not available yet (attempt ${attempt}): ${error instanceof Error ? error.message : String(error)}`)
      await new Promise((wake) => setTimeout(wake, delayMs))
    }
  }
}

/**
 * Creates the stream, or aligns its subjects. Safe when several processes
 * start at once: creating an identical stream is idempotent on the server, and
 * a creator that lost the race falls back to the update path.
 */
async function ensureStream(jsm: JetStreamManager, name: string, subjects: string[], limits: StreamLimits, logger: BusLogger | undefined): Promise<void> {
  const wanted = {
    ...(limits.replicas !== undefined ? { num_replicas: limits.replicas } : {}),
    ...(limits.maxAgeMs !== undefined ? { max_age: nanos(limits.maxAgeMs) } : {}),
    ...(limits.maxBytes !== undefined ? { max_bytes: limits.maxBytes } : {})
  }
  const existing = await streamInfo(jsm, name)
  if (!existing) {
    try {
      await jsm.streams.add({
        name,
        subjects,
        storage: StorageType.File,
        duplicate_window: nanos(DEFAULT_DUPLICATE_WINDOW_MS),
        // Past max_bytes the oldest events go: the database is the record, the stream a window.
        discard: DiscardPolicy.Old,
        ...wanted
      })
      logger?.info({ stream: name, subjects, ...wanted }, 'created JetStream stream')
      return
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE)) throw error
    }
  }
  const info = existing ?? (await jsm.streams.info(name))
  const current = info.config
  const changes: Partial<StreamConfig> = {}
  if (!sameSet(current.subjects ?? [], subjects)) changes.subjects = subjects
  for (const [key, value] of Object.entries(wanted) as Array<[keyof typeof wanted, number]>) {
    if (current[key] !== value) Object.assign(changes, { [key]: value })
  }
  if (Object.keys(changes).length > 0) {
    await jsm.streams.update(name, changes)
    const from = Object.fromEntries(Object.keys(changes).map((key) => [key, current[key as keyof StreamConfig]]))
    logger?.warn({ stream: name, from, to: changes }, 'updated JetStream stream settings')
  }
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<Awaited<ReturnType<JetStreamManager['streams']['info']>> | undefined> {
  try {
    return await jsm.streams.info(name)
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined
    throw error
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s) => b.includes(s))
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
  readonly #js: JetStreamClient
  readonly #streamSubjects: string[]
  readonly #onError: HandlerErrorListener
  readonly #listeners = new Set<Listener>()
  #draining: Promise<void> | undefined

  constructor(nc: NatsConnection, streamName: string, streamSubjects: string[], options: NatsBusOptions) {
    this.connection = nc
    this.streamName = streamName
    this.#js = jetstream(nc)
    this.#streamSubjects = streamSubjects
    const logger = options.logger
    this.#onError = options.onError ?? ((error, context) => {
      if (logger) logger.error({ err: error, ...context }, 'bus handler failed')
      else console.error(`bus handler failed (${context.kind} ${context.pattern}, subject ${context.subject})`, error)
    })
    if (logger) void this.#logStatus(logger)
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    this.#assertOpen()
    assertPublishSubject(subject)
    const headers = toNatsHeaders(options.headers)
    try {
      if (this.#streamSubjects.some((pattern) => subjectMatches(pattern, subject))) {
        const publishOptions: Partial<JetStreamPublishOptions> = {}
        if (options.msgId) publishOptions.msgID = options.msgId
        if (headers) publishOptions.headers = headers
        // A duplicate is acked with duplicate:true and not stored again, but core
        // subscribers still receive it (the stream only listens like any other
        // subscriber). Consumers drop duplicates by seq.
        const ack = await this.#js.publish(subject, data, publishOptions)
        return { stored: true, duplicate: ack.duplicate }
      }
      this.connection.publish(subject, data, headers ? { headers } : undefined)
      return { stored: false, duplicate: false }
    } catch (error) {
      throw mapError(error, subject, 0)
    }
  }

  subscribe(pattern: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<BusSubscription> {
    return this.#listen(pattern, options.queue, 'subscribe', async (msg) => {
      await handler(toBusMessage(msg))
    })
  }

  serve(subject: string, handler: RequestHandler, options: SubscribeOptions = {}): Promise<BusSubscription> {
    return this.#listen(subject, options.queue, 'serve', async (msg) => {
      const reply = await handler(toBusMessage(msg))
      // A plain publish to a served subject has nobody to answer.
      if (msg.reply) msg.respond(reply)
    })
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions = {}): Promise<BusMessage> {
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

  drain(): Promise<void> {
    if (this.connection.isClosed()) return Promise.resolve()
    this.#draining ??= (async () => {
      const listeners = [...this.#listeners]
      // nc.drain() alone would close the connection without waiting for our
      // handler loops; drain our subscriptions first so handlers in flight can
      // still publish and reply, then drain the connection.
      await Promise.allSettled(listeners.map((l) => (l.sub.isClosed() ? undefined : l.sub.drain())))
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

  async #logStatus(logger: BusLogger): Promise<void> {
    for await (const status of this.connection.status()) {
      switch (status.type) {
        case 'disconnect':
        case 'reconnecting':
        case 'staleConnection':
        case 'slowConsumer':
          logger.warn({ status: status.type }, 'NATS connection status')
          break
        case 'reconnect':
          logger.info({ status: status.type, server: status.server }, 'NATS reconnected')
          break
        case 'error':
          logger.error({ err: status.error }, 'NATS async error')
          break
        default:
          break
      }
    }
  }
}

function toNatsHeaders(values: Record<string, string> | undefined): MsgHdrs | undefined {
  if (!values) return undefined
  const entries = Object.entries(values)
  if (entries.length === 0) return undefined
  // A fresh object each time: js.publish() adds Nats-Msg-Id to the one it is given.
  const headers = natsHeaders()
  for (const [name, value] of entries) headers.set(name, value)
  return headers
}

function toBusMessage(msg: Msg): BusMessage {
  const headers = msg.headers
  return {
    subject: msg.subject,
    data: msg.data,
    // MsgHdrs.get() returns '' for a missing header; the port says undefined.
    header: (name) => (headers?.has(name) ? headers.get(name) : undefined)
  }
}

function mapError(error: unknown, subject: string, timeoutMs: number): unknown {
  if (error instanceof ClosedConnectionError || error instanceof DrainingConnectionError) {
    return new BusClosedError(undefined, { cause: error })
  }
  if (error instanceof RequestError && error.isNoResponders()) return new NoRespondersError(subject, { cause: error })
  if (error instanceof TimeoutError) return new RequestTimeoutError(subject, timeoutMs, { cause: error })
  return error
}
