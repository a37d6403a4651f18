import { Type, type Static } from 'typebox'

/**
 * The pattern of client text that PostgreSQL can store as sent: no NUL
 * (`text` cannot hold it) and no lone UTF-16 surrogate (not Unicode; it would
 * be replaced or refused on the way in). Either would otherwise end as a
 * server error or a silently changed string, not a 400.
 */
export const storableTextPattern = '^(?:[^\\u0000\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$'

/** A UUID as a string (any version; message ids are v7). */
export const Uuid = Type.String({ format: 'uuid' })

/** ISO 8601 UTC timestamp with milliseconds, for example `2026-11-26T20:15:00.123Z`. */
export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-26T20:15:00.123Z'] })

/** Per-room event sequence number: starts at 1, grows by exactly 1 per event. */
export const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })

export const ValidationIssue = Type.Object({
  path: Type.String({ description: 'JSON pointer into the request part (body, query, params) that failed' }),
  message: Type.String()
})
export type ValidationIssue = Static<typeof ValidationIssue>

/** RFC 9457 problem details, with the stable `code` that clients branch on. */
export const ProblemDetails = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'stable snake_case error code' }),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(ValidationIssue)),
    not_found: Type.Optional(Type.Array(Type.String())),
    allowed: Type.Optional(Type.Array(Type.String()))
  },
  { additionalProperties: true }
)
export type ProblemDetails = Static<typeof ProblemDetails>

/** Defaults of the limits of api.md's Conventions; each is configurable. */
export const limits = {
  bodyBytes: 64 * 1024,
  messageTextChars: 4000,
  roomNameChars: 100,
  displayNameChars: 64,
  displayNamesPerRequest: 1000,
  /** Users one user may block. */
  blocksPerUser: 1000,
  avatarBytes: 5 * 1024 * 1024,
  passwordMinChars: 8,
  passwordMaxChars: 256,
  pageSizeDefault: 50,
  pageSizeMax: 200,
  userSearchDefault: 20,
  userSearchMax: 100,
  /** Ids in one `GET /users/?ids=`. */
  userIdsPerRequest: 100,
  refreshTokenChars: 512,
  searchQueryChars: 200,
  searchPageDefault: 20,
  searchPageMax: 100
} as const
