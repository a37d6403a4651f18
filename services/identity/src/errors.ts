import { AppError, RateLimitedError } from '@chat/service-kit'

export const identityErrors = {
  displayNameTaken: () => new AppError(409, 'display_name_taken', 'That display name is taken'),
  invalidDisplayName: (reason: string) =>
    new AppError(400, 'validation_failed', 'The body is invalid', { errors: [{ path: '/display_name', message: reason }] }),
  invalidCredentials: () => new AppError(401, 'invalid_credentials', 'Wrong display name or password'),
  invalidRefreshToken: () => new AppError(401, 'invalid_refresh_token', 'The refresh token is invalid, expired or revoked'),
  refreshTokenReused: () =>
    new AppError(401, 'refresh_token_reused', 'This refresh token was already used; every session of its family is revoked'),
  blockSelf: () => new AppError(400, 'validation_failed', 'The request is invalid', { errors: [{ path: '/user_id', message: 'is your own id: you cannot block yourself' }] }),
  searchAndIds: () =>
    new AppError(400, 'validation_failed', 'The request is invalid', { errors: [{ path: '/ids', message: 'cannot be combined with search' }] }),
  userNotFound: () => new AppError(404, 'user_not_found', 'No such user'),
  tooManyBlocks: (max: number) => new AppError(409, 'too_many_blocks', `You have blocked ${max} users, the most there can be; unblock someone first`),
  /** `limit` names it in `rate_limited_total{limit}`: `registrations` (per address) or `failed_logins` (per display name). */
  tooManyAttempts: (retryAfterSeconds: number, limit: 'registrations' | 'failed_logins') =>
    new RateLimitedError(limit, `Too many attempts; retry in ${retryAfterSeconds} s`, retryAfterSeconds)
} as const
