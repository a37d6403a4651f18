import { AppError, errors } from '@chat/service-kit'

export const roomErrors = {
  roomNotFound: errors.roomNotFound,
  notAMember: errors.notAMember,
  usersNotFound: (names: string[]) =>
    new AppError(400, 'users_not_found', `No user is called ${names.map((name) => JSON.stringify(name)).join(', ')}`, { not_found: names }),
  blankName: () => new AppError(400, 'validation_failed', 'The body is invalid', { errors: [{ path: '/name', message: 'must not be blank' }] }),
  invalidCursor: () =>
    new AppError(400, 'validation_failed', 'The query is invalid', { errors: [{ path: '/before', message: 'is not a cursor from a Link header' }] }),
  directRoom: () =>
    new AppError(409, 'direct_room', 'A direct room keeps its two participants, and takes its name from them: it cannot be joined, left, renamed or given an avatar, and has no roles'),
  directWithSelf: () =>
    new AppError(400, 'validation_failed', 'The body is invalid', { errors: [{ path: '/display_name', message: 'is your own name: a direct room needs another user' }] }),
  ownerRequired: (what: string) => new AppError(403, 'owner_required', `Only the room's owner can ${what}`),
  adminRequired: (what: string) => new AppError(403, 'admin_required', `Only the room's owner and admins can ${what}`),
  outranked: () => new AppError(403, 'outranked', 'An admin can remove members only, not the owner or another admin'),
  participantNotFound: () => new AppError(404, 'participant_not_found', 'That user is not a participant of this room'),
  ownerRole: () =>
    new AppError(409, 'owner_role', "The owner's role does not change: the owner hands ownership over by leaving the room"),
  avatarNotSet: () => new AppError(404, 'avatar_not_set', 'This room has no avatar'),
  malformedMultipart: () => new AppError(400, 'malformed_multipart', 'The multipart body is malformed or cut short'),
  avatarMissing: () => new AppError(400, 'avatar_missing', 'Send the image as the multipart file field "avatar"'),
  unsupportedImage: () =>
    new AppError(415, 'unsupported_media_type', 'The avatar must be a JPEG, PNG, WebP or GIF image (told from its bytes)'),
  invalidImage: () => new AppError(422, 'invalid_image', 'The image could not be decoded (truncated or corrupt)'),
  avatarQueueFull: () =>
    new AppError(503, 'overloaded', 'Too many avatars are being processed; retry in 2 s', {}, { 'retry-after': '2' }),
  imageTooLarge: (width: number, height: number, maxPixels: number) =>
    new AppError(422, 'image_dimensions_too_large', `The image is ${width}x${height}; at most ${maxPixels} pixels are accepted`)
} as const
