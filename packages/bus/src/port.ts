/** A message as a subscriber or a request handler receives it. */
export interface BusMessage {
  readonly subject: string
  readonly data: Uint8Array
  /** Header lookup (case-sensitive names as published); undefined when absent. */
  header(name: string): string | undefined
}

export interface PublishOptions {
  /**
   * Message id for de-duplication: a second publish with the same id within
   * the dedupe window is reported as a duplicate and not stored again.
   */
  msgId?: string
  headers?: Record<string, string>
  /**
   * On a stream subject, what publish() waits for: `stored` (default) the
   * stream's acknowledgement of this message; `none` nothing, like a core
   * publish (the stream still stores it and drops a repeated `msgId`). A
   * caller that must know the messages arrived publishes several with `none`
   * and then awaits one `flush()`, which answers only after the server has
   * received all of them: one round trip for the lot instead of one each.
   * With `none`, the message is handed to the connection before publish()
   * returns its promise, so a flush() called right after covers it even
   * before that promise settles (the publisher relies on this to send the
   * PING in the same write).
   */
  confirm?: 'stored' | 'none'
}

export interface PublishResult {
  /**
   * True when the subject belongs to the event stream (JetStream) and the
   * stream acknowledged the event: it is stored, or was already stored when
   * `duplicate` is true. False for core subjects (for example typing
   * notices), which are fire-and-forget, and for `confirm: 'none'`.
   */
  stored: boolean
  /** True when `msgId` was seen before within the dedupe window. */
  duplicate: boolean
}

export interface SubscribeOptions {
  /** Members of one queue group share the messages: each goes to one of them. */
  queue?: string
}

export interface RequestOptions {
  /** Defaults to {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  timeoutMs?: number
  headers?: Record<string, string>
}

export interface BusSubscription {
  unsubscribe(): Promise<void>
}

export type MessageHandler = (message: BusMessage) => void | Promise<void>
/** Answers a request; the returned bytes are the reply. */
export type RequestHandler = (message: BusMessage) => Uint8Array | Promise<Uint8Array>

/**
 * The port every service talks to. Subject patterns follow NATS: `*` matches
 * one token, `>` one or more trailing tokens.
 */
export interface EventBus {
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishResult>
  subscribe(pattern: string, handler: MessageHandler, options?: SubscribeOptions): Promise<BusSubscription>
  request(subject: string, data: Uint8Array, options?: RequestOptions): Promise<BusMessage>
  serve(subject: string, handler: RequestHandler, options?: SubscribeOptions): Promise<BusSubscription>
  /** Resolves when the bus is reachable; rejects otherwise (for /readyz). */
  ping(): Promise<void>
  /**
   * Confirms the publishes made before it (those with `confirm: 'none'`):
   * resolves once the server has received every message this connection
   * published before the call (NATS: a PING answered after them, in order)
   * and refused none of them meanwhile. Rejects otherwise: the connection
   * was lost (what was published may not have arrived), the server refused
   * a publish (`PublishRefusedError`, NATS permissions), or no answer came
   * in time.
   */
  flush(): Promise<void>
  /** Stops taking new messages, lets handlers in flight finish, then closes. */
  drain(): Promise<void>
  close(): Promise<void>
}

/**
 * Callback for a handler that threw (or a request handler that rejected). The
 * bus keeps delivering; a failed request handler sends no reply, so the
 * requester gets a RequestTimeoutError.
 */
export type HandlerErrorListener = (error: unknown, context: HandlerErrorContext) => void

export interface HandlerErrorContext {
  readonly kind: 'subscribe' | 'serve'
  /** The pattern given to subscribe() or serve(). */
  readonly pattern: string
  /** The subject of the message that failed. */
  readonly subject: string
}

/** Header carrying `msgId` on stream subjects (the JetStream de-duplication header). */
export const MSG_ID_HEADER = 'Nats-Msg-Id'
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000
/** Same as the CHAT_EVENTS stream's `duplicate_window`. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000

/**
 * What a bus counts about itself, read by the process's metrics on scrape
 * (service-kit's busMetrics): plain numbers, so that the send path pays an
 * increment and the bus needs no metrics library.
 */
export interface BusStats {
  /** Publishes that failed (timeouts, a closed connection, refused subjects). */
  publishFailures: number
  /** Whether the connection to the server is up right now. */
  connected: boolean
  /** Times the connection came back after it was lost. */
  reconnects: number
}

/** The subset of a pino logger the NATS adapter logs to. */
export interface BusLogger {
  info(object: Record<string, unknown>, message: string): void
  warn(object: Record<string, unknown>, message: string): void
  error(object: Record<string, unknown>, message: string): void
}
