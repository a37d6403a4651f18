import { AppError, errors } from '@chat/service-kit'

const invalidField = (path: string, reason: string) =>
  new AppError(400, 'validation_failed', 'The body is invalid', { errors: [{ path, message: reason }] })

export const messagesErrors = {
  roomNotFound: errors.roomNotFound,
  notAMember: errors.notAMember,
  messageNotFound: () => new AppError(404, 'message_not_found', 'No such message in this room'),
  replyToNotFound: () => new AppError(404, 'reply_to_not_found', 'reply_to names no message of this room'),
  notSender: () => new AppError(403, 'not_sender', 'Only the sender may change this message'),
  messageDeleted: () => new AppError(409, 'message_deleted', 'This message was deleted; it can no longer be changed'),
  invalidText: (reason: string) => invalidField('/text', reason),
  // The same answer the error handler gives when PostgreSQL refuses such a value.
  invalidCharacters: () => new AppError(400, 'invalid_characters', 'The request holds a value that cannot be stored'),
  invalidSearch: (reason: string) =>
    new AppError(400, 'validation_failed', 'The querystring is invalid', { errors: [{ path: '/q', message: reason }] }),
  conflictingPaging: () =>
    new AppError(400, 'validation_failed', 'The querystring is invalid', {
      errors: [{ path: '/before_seq', message: 'cannot be combined with after_seq' }]
    })
} as const
