import { Type, type Static } from 'typebox'
import { limits } from '@chat/contracts'
import { commonConfig, databaseConfig, natsConfig, tokenVerifyConfig } from '@chat/service-kit'

export const RoomsConfig = Type.Object({
  ...commonConfig,
  ...databaseConfig,
  ...natsConfig,
  ...tokenVerifyConfig,
  PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: 3002 }),
  AVATAR_MAX_BYTES: Type.Integer({ minimum: 1024, maximum: 50 * 1024 * 1024, default: limits.avatarBytes, description: 'largest avatar upload (413 beyond)' }),
  AVATAR_DECODE_QUEUE: Type.Integer({
    minimum: 0,
    maximum: 1_000,
    default: 8,
    description: 'avatar uploads that may wait for one of the two decoding slots, each holding its upload; past it 503 overloaded with Retry-After'
  })
})
export type RoomsConfig = Static<typeof RoomsConfig>
