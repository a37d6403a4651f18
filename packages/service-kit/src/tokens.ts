import { randomUUID } from 'node:crypto'
import { createSigner, createVerifier, TokenError } from 'fast-jwt'
import { Compile } from 'typebox/compile'
import { Type } from 'typebox'
import type { AccessTokenClaims, Jwks } from '@chat/contracts'
import { ConfigError } from './config.js'
import { verifyingAlgorithms, verifyingKeyFromJwk, verifyingKeyFromPem, type SigningKey, type VerifyingKey } from './keys.js'

/** Who is asking, as proven by a verified access token. */
export interface AuthUser {
  id: string
  displayName: string
}

export class InvalidTokenError extends Error {
  readonly code = 'unauthenticated'
  constructor(readonly reason: 'missing' | 'expired' | 'invalid', message: string) {
    super(message)
  }
}

/** The keys that verify tokens cannot be had right now (the JWKS endpoint is down): a 503, not a 401. */
export class KeysUnavailableError extends Error {
  readonly code = 'auth_unavailable'
}

/** Finds the public key for a token's `kid`. */
export type KeyResolver = (kid: string | undefined) => Promise<VerifyingKey>

const ClaimsCheck = Compile(
  Type.Object({
    sub: Type.String({ format: 'uuid' }),
    name: Type.String(),
    iat: Type.Integer(),
    exp: Type.Integer(),
    jti: Type.String()
  })
)

/** Resolves keys from a fixed list: one key matches any kid, several are picked by kid. */
export function staticKeyResolver(keys: readonly VerifyingKey[]): KeyResolver {
  return async (kid) => {
    const key = keys.length === 1 ? keys[0] : keys.find((candidate) => candidate.kid === kid)
    if (!key) throw new InvalidTokenError('invalid', 'The token was signed by an unknown key')
    return key
  }
}

/**
 * Resolves keys from a JWKS URL; fetched on first use and again when an
 * unknown kid shows up (key rotation), at most once per `minRefetchMs`.
 */
export function jwksKeyResolver(url: string, options: { minRefetchMs?: number; fetchImpl?: typeof fetch } = {}): KeyResolver {
  const minRefetchMs = options.minRefetchMs ?? 30_000
  const fetchImpl = options.fetchImpl ?? fetch
  let keys = new Map<string, VerifyingKey>()
  let fetchedAt = 0
  let failedAt = 0
  let inFlight: Promise<void> | undefined
  const refresh = async (): Promise<void> => {
    let document: Jwks
    try {
      const response = await fetchImpl(url, { signal: AbortSignal.timeout(5_000) })
      if (!response.ok) throw new Error(`answered ${response.status}`)
      document = (await response.json()) as Jwks
    } catch (error) {
      failedAt = Date.now()
      throw new KeysUnavailableError(`JWKS fetch from ${url} failed: ${(error as Error).message}`)
    }
    const next = new Map<string, VerifyingKey>()
    for (const jwk of document.keys ?? []) {
      try {
        next.set(jwk.kid, verifyingKeyFromJwk(jwk))
      } catch {
        // A key of a type we do not verify with is skipped, not fatal.
      }
    }
    keys = next
    fetchedAt = Date.now()
  }
  return async (kid) => {
    const known = kid ? keys.get(kid) : keys.size === 1 ? [...keys.values()][0] : undefined
    if (known) return known
    // After a failed fetch, wait a little before the next one instead of
    // sending every request to an endpoint that is down.
    if (Date.now() - failedAt < 2_000) throw new KeysUnavailableError(`JWKS from ${url} is unavailable`)
    if (Date.now() - fetchedAt >= minRefetchMs) {
      inFlight ??= refresh().finally(() => { inFlight = undefined })
      await inFlight
    }
    const found = kid ? keys.get(kid) : keys.size === 1 ? [...keys.values()][0] : undefined
    if (!found) throw new InvalidTokenError('invalid', 'The token was signed by an unknown key')
    return found
  }
}

/** A verified access token: who it names, and until when (its `exp`), so that nobody decodes it a second time. */
export interface VerifiedToken extends AuthUser {
  /** The token's `exp`, in ms since the epoch: a socket opened with it is closed then. */
  expiresAt: number
}

export interface TokenVerifier {
  verify(token: string | undefined): Promise<VerifiedToken>
}

/**
 * Verifies access tokens: EdDSA or ES256 only (so `alg: none` and HMAC
 * tokens fail), a valid signature, unexpired, with the claims of api.md.
 */
export function createTokenVerifier(resolveKey: KeyResolver, options: { clockToleranceMs?: number } = {}): TokenVerifier {
  const clockToleranceMs = options.clockToleranceMs ?? 5_000
  const verifier = createVerifier({
    algorithms: [...verifyingAlgorithms],
    requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    clockTolerance: clockToleranceMs,
    cache: 1000,
    // A bad token stays bad for a minute; a failed key lookup (the JWKS
    // endpoint down) is not remembered at all. fast-jwt adds the clock
    // tolerance to this TTL, hence the negative value.
    errorCacheTTL: (error: unknown) =>
      error instanceof TokenError && error.code === TokenError.codes.keyFetchingError ? -clockToleranceMs - 1 : 60_000,
    key: async (decoded: { header: { kid?: string; alg?: string } }) => {
      const key = await resolveKey(decoded.header.kid)
      if (decoded.header.alg !== key.alg) throw new InvalidTokenError('invalid', 'The token algorithm does not match its key')
      return key.publicKeyPem
    }
  })
  return {
    async verify(token) {
      if (!token) throw new InvalidTokenError('missing', 'A bearer access token is required')
      let claims: unknown
      try {
        claims = await verifier(token)
      } catch (error) {
        if (error instanceof InvalidTokenError) throw error
        const cause = (error as { originalError?: unknown }).originalError
        if (error instanceof KeysUnavailableError || cause instanceof KeysUnavailableError) throw cause ?? error
        if (error instanceof TokenError && error.code === TokenError.codes.expired) {
          throw new InvalidTokenError('expired', 'The access token has expired')
        }
        throw new InvalidTokenError('invalid', 'The access token is invalid')
      }
      if (!ClaimsCheck.Check(claims)) throw new InvalidTokenError('invalid', 'The access token lacks required claims')
      return { id: claims.sub, displayName: claims.name, expiresAt: claims.exp * 1000 }
    }
  }
}

export interface IssuedToken {
  token: string
  expiresIn: number
}

export interface TokenSigner {
  readonly key: SigningKey
  sign(user: AuthUser): IssuedToken
}

/** Signs access tokens (identity service only: it alone holds the private key). */
export function createTokenSigner(key: SigningKey, ttlSeconds: number): TokenSigner {
  const signer = createSigner({ key: key.privateKeyPem, algorithm: key.alg, kid: key.kid, expiresIn: ttlSeconds * 1000 })
  return {
    key,
    sign(user) {
      const claims: Omit<AccessTokenClaims, 'iat' | 'exp'> = { sub: user.id, name: user.displayName, jti: randomUUID() }
      return { token: signer(claims), expiresIn: ttlSeconds }
    }
  }
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
  return match?.[1]
}

/**
 * The verifier a service gets from `JWT_PUBLIC_KEY` (PEM) or, failing that,
 * `JWKS_URL`. Neither set is a configuration error naming both.
 */
export function tokenVerifierFromConfig(config: { JWT_PUBLIC_KEY?: string; JWKS_URL?: string }): TokenVerifier {
  if (config.JWT_PUBLIC_KEY) {
    let key: VerifyingKey
    try {
      key = verifyingKeyFromPem(config.JWT_PUBLIC_KEY.replaceAll('\\n', '\n'))
    } catch (error) {
      throw new ConfigError('JWT_PUBLIC_KEY', `is not a usable public key: ${(error as Error).message.split('\n')[0]}`)
    }
    return createTokenVerifier(staticKeyResolver([key]))
  }
  if (config.JWKS_URL) return createTokenVerifier(jwksKeyResolver(config.JWKS_URL))
  throw new ConfigError('JWT_PUBLIC_KEY', 'or JWKS_URL is required to verify access tokens')
}
