import { Type, type Static } from 'typebox'
import { limits } from '@chat/contracts'
import { commonConfig, databaseConfig, natsConfig, tokenVerifyConfig } from '@chat/service-kit'

export const RoomsConfig = Type.Object({
  ...commonConfig,
  ...databaseConfig,
  ...natsConfig,
  ...tokenVerifyConfig,
  PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: 3002 }),
  AVATAR_MAX_BYTES: Type.Integer({ minimum: 1024, maximum: 50 * 1024 * 1024, default: limits.avatarBytes, description: 'largest avatar upload (413 beyond)' })
})
export type RoomsConfig = Static<typeof RoomsConfig>
