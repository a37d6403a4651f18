import { Type, type Static } from 'typebox'
import { commonConfig, databaseConfig, natsConfig, tokenVerifyConfig } from '@chat/service-kit'

export const MessagesConfig = Type.Object({
  ...commonConfig,
  ...databaseConfig,
  ...natsConfig,
  ...tokenVerifyConfig,
  PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: 3003 }),
  /** Send batches in the database at once (send-batcher.ts): 1, or more where the database's commits are slow to flush. */
  SEND_BATCHES_IN_FLIGHT: Type.Integer({ minimum: 1, maximum: 8, default: 1 })
})
export type MessagesConfig = Static<typeof MessagesConfig>
