import { AppError, errors } from '@chat/service-kit'

export const reactionsErrors = {
  notAMember: errors.notAMember,
  messageNotFound: () => new AppError(404, 'message_not_found', 'No such message'),
  reactionNotFound: () => new AppError(404, 'reaction_not_found', 'You have no reaction on this message'),
  invalidReaction: (allowed: readonly string[]) =>
    new AppError(400, 'invalid_reaction', `Not a reaction; use one of ${allowed.join(', ')} (GET /emoji/ lists them)`, {
      allowed: [...allowed],
      errors: [{ path: '/reaction', message: 'must be one of the names of GET /emoji/' }]
    })
} as const
