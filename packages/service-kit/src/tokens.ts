import { randomUUID } from 'node:crypto'
import { createSigner, createVerifier, TokenError } from 'fast-jwt'
import { Compile } from 'typebox/compile'
import { Type } from 'typebox'
import type { AccessTokenClaims } from '@chat/contracts'
import { verifyingAlgorithms, type SigningKey, type VerifyingKey } from './keys.js'
import { VerifiedTokens } from './verified-tokens.js'

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

/** The header fields that pick a verifying key. */
export interface KeyHint {
  kid?: string
  alg?: string
}

/** Finds the public key for a token's `kid` (and `alg`). */
export type KeyResolver = (hint: KeyHint) => Promise<VerifyingKey>

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
  return async ({ kid }) => {
    const key = keys.length === 1 ? keys[0] : keys.find((candidate) => candidate.kid === kid)
    if (!key) throw new InvalidTokenError('invalid', 'The token was signed by an unknown key')
    return key
  }
}

/** A verified access token: who it names, and until when (its `exp`), so that nobody decodes it a second time. */
export interface VerifiedToken extends AuthUser {
  /** The token's `exp`, in ms since the epoch: a socket opened with it is closed then. */
  expiresAt: number
}

export interface TokenVerifier {
  /** The answer may be shared with other requests that show the same token: read it, never change it. */
  verify(token: string | undefined): Promise<Readonly<VerifiedToken>>
}

/**
 * Verifies access tokens: EdDSA or ES256 only (so `alg: none` and HMAC
 * tokens fail), a valid signature, unexpired, with the claims of api.md.
 */
export function createTokenVerifier(
  resolveKey: KeyResolver,
  options: {
    clockToleranceMs?: number
    /** How long a verified token is answered from memory (never past its exp): a removed key verifies no longer than this. */
    cacheTtlMs?: number
    /** Most tokens in each cache (verified, and refused); 0: no caching. */
    cacheEntries?: number
  } = {}
): TokenVerifier {
  const clockToleranceMs = options.clockToleranceMs ?? 5_000
  const cacheTtlMs = options.cacheTtlMs ?? 600_000
  // 10,000 entries: a replica's active users fit, so that their requests
  // skip the signature check (a cache smaller than that set keeps evicting
  // tokens that are still in use, which then cost a check each again).
  const cacheEntries = options.cacheEntries ?? 10_000
  // Both caches are off together: when asked (0 entries), or when the
  // lifetime is no longer than the clock tolerance (fast-jwt's would then
  // outlive it).
  const caching = cacheEntries > 0 && cacheTtlMs > clockToleranceMs
  // Valid tokens are answered from here, by their text, before fast-jwt sees them.
  const verified = caching ? new VerifiedTokens<VerifiedToken>(cacheTtlMs, cacheEntries) : undefined
  const verifier = createVerifier({
    algorithms: [...verifyingAlgorithms],
    requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    clockTolerance: clockToleranceMs,
    // fast-jwt's cache keeps what `verified` does not: refused tokens. A
    // valid token stays in it only the clock tolerance (its TTL of 0 plus the
    // tolerance fast-jwt adds). A longer stay would let a hit there, after
    // `verified` let the token go, store it in `verified` for a new lifetime
    // without asking for its key: a key removed from the JWKS must stop
    // verifying within `cacheTtlMs` (jwks.ts).
    cache: caching ? cacheEntries : false,
    cacheTTL: 0,
    // A bad token stays bad for a minute; a failed key lookup (the JWKS
    // endpoint down) is not remembered at all. fast-jwt adds the clock
    // tolerance to this TTL, hence the negative value.
    errorCacheTTL: (error: unknown) =>
      error instanceof TokenError && error.code === TokenError.codes.keyFetchingError ? -clockToleranceMs - 1 : 60_000,
    key: async (decoded: { header: { kid?: string; alg?: string } }) => {
      const key = await resolveKey({ kid: decoded.header.kid, alg: decoded.header.alg })
      if (decoded.header.alg !== key.alg) throw new InvalidTokenError('invalid', 'The token algorithm does not match its key')
      return key.publicKeyPem
    }
  })
  return {
    async verify(token) {
      if (!token) throw new InvalidTokenError('missing', 'A bearer access token is required')
      const known = verified?.get(token)
      if (known) return known
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
      // Frozen: a cached answer is shared by every request that shows the token.
      const result: VerifiedToken = Object.freeze({ id: claims.sub, displayName: claims.name, expiresAt: claims.exp * 1000 })
      verified?.set(token, result)
      return result
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
