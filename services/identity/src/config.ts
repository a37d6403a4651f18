import { Type, type Static } from 'typebox'
import { commonConfig, databaseConfig, natsConfig } from '@chat/service-kit'

export const identityTokenConfig = {
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 30, maximum: 86_400, default: 900, description: 'lifetime of access tokens' }),
  REFRESH_TOKEN_TTL_DAYS: Type.Integer({ minimum: 1, maximum: 365, default: 30, description: 'lifetime of refresh tokens' })
}

export const IdentityConfig = Type.Object({
  ...commonConfig,
  ...databaseConfig,
  ...natsConfig,
  ...identityTokenConfig,
  PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: 3001 }),
  JWT_PRIVATE_KEY: Type.String({ minLength: 1, writeOnly: true, description: 'PKCS#8 PEM private key (Ed25519 or P-256) that signs access tokens' }),
  JWT_PREVIOUS_PUBLIC_KEYS: Type.Optional(
    Type.String({ description: 'SPKI PEM public keys published in the JWKS besides the signing key, one block after another: the previous key during a rotation (deploy/README.md)' })
  )
})
export type IdentityConfig = Static<typeof IdentityConfig>
