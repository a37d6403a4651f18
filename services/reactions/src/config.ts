import { Type, type Static } from 'typebox'
import { commonConfig, databaseConfig, natsConfig, tokenVerifyConfig } from '@chat/service-kit'

export const ReactionsConfig = Type.Object({
  ...commonConfig,
  ...databaseConfig,
  ...natsConfig,
  ...tokenVerifyConfig,
  PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: 3004 })
})
export type ReactionsConfig = Static<typeof ReactionsConfig>
