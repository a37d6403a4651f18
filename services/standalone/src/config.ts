import { Type, type Static } from 'typebox'
import { limits } from '@chat/contracts'
import { commonConfig } from '@chat/service-kit'
import { identityTokenConfig } from '@chat/identity'
import { realtimeSocketConfig } from '@chat/realtime'

export const StandaloneConfig = Type.Object({
  ...commonConfig,
  ...identityTokenConfig,
  ...realtimeSocketConfig,
  PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: 8080 }),
  AVATAR_MAX_BYTES: Type.Integer({ minimum: 1024, maximum: 50 * 1024 * 1024, default: limits.avatarBytes, description: 'largest avatar upload (413 beyond)' }),
  AVATAR_DECODE_QUEUE: Type.Integer({ minimum: 0, maximum: 1_000, default: 8, description: 'avatar uploads that may wait for a decoding slot; past it 503 overloaded' }),
  WEB_DIR: Type.Optional(Type.String({ minLength: 1, description: 'folder of the built web app served at / (default: apps/web/dist of this checkout, when built)' })),
  DATA_DIR: Type.String({ minLength: 1, default: './data', description: 'folder of the embedded database and the signing key' })
})
export type StandaloneConfig = Static<typeof StandaloneConfig>
