import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ProblemDetails, ValidationIssue } from '@chat/contracts'

const titles: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable'
}

/**
 * An error a client can act on: it becomes problem details with its `code`.
 * `extra` adds members to the body (`not_found`, `allowed`, ...).
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {}
  ) {
    super(message)
    this.name = 'AppError'
  }
}

/**
 * A 429: `limit` names the limit that was hit, for `rate_limited_total{limit}`
 * (never in the body: the contract's `rate_limited` problem stays as it is).
 */
export class RateLimitedError extends AppError {
  constructor(
    readonly limit: string,
    message: string,
    retryAfterSeconds: number
  ) {
    super(429, 'rate_limited', message, {}, { 'retry-after': String(retryAfterSeconds) })
  }
}

/** Coded errors shared by every service. */
export const errors = {
  unauthenticated: (detail = 'A valid access token is required') => new AppError(401, 'unauthenticated', detail),
  roomNotFound: () => new AppError(404, 'room_not_found', 'No such room'),
  notAMember: () => new AppError(403, 'not_a_member', 'You are not a participant of this room'),
  notFound: (detail = 'No such resource') => new AppError(404, 'not_found', detail),
  unavailable: (detail = 'A dependency is unavailable; try again shortly') =>
    new AppError(503, 'service_unavailable', detail, {}, { 'retry-after': '5' })
} as const

export function problemBody(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): ProblemDetails {
  return {
    type: `https://chat.example/problems/${code.replaceAll('_', '-')}`,
    title: titles[status] ?? 'Error',
    status,
    detail,
    code,
    ...extra
  }
}

export function sendProblem(reply: FastifyReply, status: number, code: string, detail: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).type('application/problem+json').send(problemBody(status, code, detail, extra))
}

interface SchemaIssue {
  instancePath?: string
  message?: string
  params?: { requiredProperties?: string[]; additionalProperties?: string[]; missingProperty?: string }
  keyword?: string
}

/** Turns validator issues into `[{path, message}]`, one per offending field. */
export function validationIssues(issues: readonly SchemaIssue[]): ValidationIssue[] {
  const seen = new Set<string>()
  const result: ValidationIssue[] = []
  for (const issue of issues) {
    // TypeBox reports `additionalProperties: false` twice; keep the readable one.
    if (issue.keyword === 'boolean') continue
    const base = issue.instancePath ?? ''
    const fields = issue.params?.requiredProperties ?? issue.params?.additionalProperties ?? (issue.params?.missingProperty ? [issue.params.missingProperty] : undefined)
    const paths = fields ? fields.map((field) => `${base}/${field}`) : [base || '/']
    for (const path of paths) {
      const message = issue.keyword === 'additionalProperties' ? 'is not allowed' : issue.keyword === 'required' ? 'is required' : issue.message ?? 'is invalid'
      const key = `${path} ${message}`
      if (seen.has(key)) continue
      seen.add(key)
      result.push({ path, message })
    }
  }
  return result
}

const fastifyCodes: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', detail: 'The body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', detail: 'The body is empty but declared as JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', detail: 'The body is larger than allowed' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', detail: 'This content type is not accepted here' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length', detail: 'Content-Length does not match the body' },
  FST_REQ_FILE_TOO_LARGE: { status: 413, code: 'payload_too_large', detail: 'The file is larger than allowed' },
  FST_PARTS_LIMIT: { status: 413, code: 'payload_too_large', detail: 'Too many parts' },
  FST_FILES_LIMIT: { status: 413, code: 'payload_too_large', detail: 'Too many files' },
  FST_FIELDS_LIMIT: { status: 413, code: 'payload_too_large', detail: 'Too many fields' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { status: 415, code: 'unsupported_media_type', detail: 'The request is not multipart' },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_url', detail: 'The URL is malformed' }
}

/** Failures of a dependency (database, bus), not of the request: 503 with Retry-After. */
const dependencyErrorCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE',
  '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006', '57014',
  'bus_no_responders', 'bus_timeout', 'bus_closed'
])

/** True when `error` says a dependency (database, bus) failed rather than the request: answer 503, not 500. */
export function isDependencyFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message } = error as { code?: unknown; message?: unknown }
  if (typeof code === 'string' && dependencyErrorCodes.has(code)) return true
  // pg reports these without a code: a pool that cannot connect, a connection
  // cut under a query, a client whose connection broke (its rollback then fails too).
  return typeof message === 'string' && /timeout exceeded when trying to connect|Connection terminated|Cannot use a pool after calling end|is not queryable/i.test(message)
}

const postgresInputErrors: Record<string, string> = {
  '22021': 'invalid_characters', // character_not_in_repertoire (NUL)
  '22P05': 'invalid_characters', // untranslatable_character
  '22P02': 'invalid_value', // invalid_text_representation
  '22003': 'value_out_of_range' // numeric_value_out_of_range
}

/**
 * The one error handler of a process: coded errors and client mistakes become
 * problem details; anything unexpected is logged in full and answered with a
 * bare 500 that reveals nothing.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, 'dependency failure')
      return sendProblem(reply.headers(error.headers), error.statusCode, error.code, error.message, error.extra)
    }
    if ('validation' in error && error.validation) {
      const part = error.validationContext ?? 'request'
      return sendProblem(reply, 400, 'validation_failed', `The ${part} is invalid`, {
        errors: validationIssues(error.validation)
      })
    }
    // PostgreSQL refusing a value (characters it cannot store, a number out of
    // range) is bad input that a schema missed: still a 400, and logged so the
    // schema gets fixed.
    const refused = typeof error.code === 'string' ? postgresInputErrors[error.code] : undefined
    if (refused) {
      request.log.warn({ err: error }, 'database refused a value of the input')
      return sendProblem(reply, 400, refused, 'The request holds a value that cannot be stored')
    }
    const known = error.code ? fastifyCodes[error.code] : undefined
    if (known) return sendProblem(reply, known.status, known.code, known.detail)
    if (isDependencyFailure(error)) {
      request.log.error({ err: error }, 'dependency unavailable')
      return sendProblem(reply.header('retry-after', '5'), 503, 'service_unavailable', 'A dependency is unavailable; try again shortly')
    }
    const status = error.statusCode ?? 500
    if (status === 429) return sendProblem(reply, 429, 'rate_limited', error.message || 'Too many requests')
    if (status >= 400 && status < 500) {
      return sendProblem(reply, status, 'bad_request', error.message || 'The request was not understood')
    }
    request.log.error({ err: error }, 'unhandled error')
    return sendProblem(reply, 500, 'internal_error', 'Something went wrong on our side; it has been logged')
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 404, 'route_not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)
  )
}
