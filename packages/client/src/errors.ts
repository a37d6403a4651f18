import type { ProblemDetails, ValidationIssue } from '@chat/contracts'

/**
 * An HTTP answer outside 2xx, read from its RFC 9457 problem details. A body
 * that is not problem details (a proxy's HTML page) still gives a `code`:
 * `http_<status>`.
 *
 * @example
 * try { await client.rooms.create({ name, participants_display_names }) }
 * catch (error) { if (error instanceof ChatApiError && error.code === 'users_not_found') show(error.notFound) }
 */
export class ChatApiError extends Error {
  override readonly name = 'ChatApiError'
  readonly status: number
  /** The stable snake_case code clients branch on. */
  readonly code: string
  readonly title: string
  readonly detail: string
  /** The whole problem body, extension members included; undefined when the body was not JSON. */
  readonly problem: ProblemDetails | undefined
  /** Validation issues of a 400. */
  readonly errors: ValidationIssue[] | undefined
  /** Display names of a 400 `users_not_found`. */
  readonly notFound: string[] | undefined
  /** Reaction names of a 400 `invalid_reaction`. */
  readonly allowed: string[] | undefined
  /** Seconds to wait, from `Retry-After` (429, 503). */
  readonly retryAfter: number | undefined

  constructor(status: number, problem: ProblemDetails | undefined, retryAfter: number | undefined, fallbackTitle = '') {
    const code = problem?.code ?? `http_${status}`
    const title = problem?.title ?? fallbackTitle
    const detail = problem?.detail ?? ''
    super(`${status} ${code}${detail ? `: ${detail}` : ''}`)
    this.status = status
    this.code = code
    this.title = title
    this.detail = detail
    this.problem = problem
    this.errors = problem?.errors
    this.notFound = problem?.not_found
    this.allowed = problem?.allowed
    this.retryAfter = retryAfter
  }
}

/** The request never got an HTTP answer: DNS, refused connection, reset, CORS, abort. */
export class ChatNetworkError extends Error {
  override readonly name = 'ChatNetworkError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/**
 * A socket-level failure: an `error` frame (its `code` and `detail`), a close
 * code that ends the socket for good, or a pending call cut off by `close()`.
 */
export class ChatSocketError extends Error {
  override readonly name = 'ChatSocketError'
  /** The error frame's code, or `closed`, `disconnected`, `not_open`, `unauthenticated`, `not_a_member`, `room_not_found`. */
  readonly code: string
  readonly detail: string
  /** The WebSocket close code when the error comes from a close. */
  readonly closeCode: number | undefined
  /** The room the error concerns, when known. */
  readonly roomId: string | undefined
  /** The `ref` of the client frame the error answers. */
  readonly ref: string | undefined

  constructor(code: string, detail: string, extra: { closeCode?: number; roomId?: string; ref?: string; cause?: unknown } = {}) {
    super(`${code}${detail ? `: ${detail}` : ''}`, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.code = code
    this.detail = detail
    this.closeCode = extra.closeCode
    this.roomId = extra.roomId
    this.ref = extra.ref
  }
}
