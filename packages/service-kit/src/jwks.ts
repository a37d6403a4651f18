import { KeyObject, type webcrypto } from 'node:crypto'
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors as joseErrors } from 'jose'
import { ConfigError } from './config.js'
import { verifyingKeyFromKeyObject, verifyingKeyFromPem, type VerifyingKey } from './keys.js'
import { createTokenVerifier, InvalidTokenError, KeysUnavailableError, staticKeyResolver, type KeyHint, type KeyResolver, type TokenVerifier } from './tokens.js'

export interface JwksResolverOptions {
  /**
   * How long a fetched key set is used before it is fetched again; a key
   * identity stopped publishing is forgotten then. Default 150 s.
   */
  cacheMaxAgeMs?: number
  /** Least time between two fetches caused by a token with an unknown `kid`. Default 10 s. */
  cooldownMs?: number
  /** A fetch that takes longer fails. Default 5 s. */
  timeoutMs?: number
  /** After a failed fetch, the next one waits this long; the keys fetched last serve meanwhile. Default 2 s. */
  retryAfterFailureMs?: number
  fetchImpl?: typeof fetch
}

function unknownKey(): InvalidTokenError {
  return new InvalidTokenError('invalid', 'The token was signed by an unknown key')
}

/** The errors that say "no such key" about a token rather than "the key set cannot be had". */
function isNoMatch(error: unknown): boolean {
  return error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys || error instanceof joseErrors.JOSENotSupported
}

/**
 * Resolves keys from identity's JWKS with jose's remote key set: fetched on
 * first use, again once `cacheMaxAgeMs` has passed (so removed keys are
 * forgotten) and when a token names an unknown `kid` (a rotation), at most
 * once per `cooldownMs`. While the endpoint cannot be reached the keys
 * fetched last keep verifying (a removed key too: nobody can tell it was
 * removed), and a kid they lack is a KeysUnavailableError (503), not a 401.
 */
export function jwksKeyResolver(url: string, options: JwksResolverOptions = {}): KeyResolver {
  const retryAfterFailureMs = options.retryAfterFailureMs ?? 2_000
  const remote = createRemoteJWKSet(new URL(url), {
    cacheMaxAge: options.cacheMaxAgeMs ?? 150_000,
    cooldownDuration: options.cooldownMs ?? 10_000,
    timeoutDuration: options.timeoutMs ?? 5_000,
    ...(options.fetchImpl ? { [customFetch]: options.fetchImpl } : {})
  })
  // jose hands out WebCrypto keys; fast-jwt wants PEM. One conversion per key.
  const converted = new WeakMap<object, VerifyingKey>()
  const toVerifying = (key: object, kid: string | undefined): VerifyingKey => {
    let verifying = converted.get(key)
    if (!verifying) {
      verifying = verifyingKeyFromKeyObject(kid ?? '', KeyObject.from(key as webcrypto.CryptoKey))
      converted.set(key, verifying)
    }
    return verifying
  }
  let failedAt = Number.NEGATIVE_INFINITY
  const fromLastFetched = async (header: { alg: string; kid?: string }, cause: unknown): Promise<VerifyingKey> => {
    const last = remote.jwks()
    if (!last) throw new KeysUnavailableError(`JWKS from ${url} is unavailable: ${(cause as Error).message}`)
    try {
      return toVerifying(await createLocalJWKSet(last)(header), header.kid)
    } catch (error) {
      if (isNoMatch(error)) throw new KeysUnavailableError(`JWKS from ${url} is unavailable and has no key ${header.kid ?? '(no kid)'}`)
      throw error
    }
  }
  return async ({ kid, alg }: KeyHint) => {
    if (!alg) throw unknownKey()
    const header = kid === undefined ? { alg } : { alg, kid }
    // Right after a failure, every request would otherwise wait for its own
    // fetch from an endpoint that is down.
    if (Date.now() - failedAt < retryAfterFailureMs) return fromLastFetched(header, new Error('the last fetch failed'))
    try {
      return toVerifying(await remote(header), kid)
    } catch (error) {
      if (isNoMatch(error)) throw unknownKey()
      failedAt = Date.now()
      return fromLastFetched(header, error)
    }
  }
}

/** How long a removed key keeps verifying at most, and how often unknown kids may refetch. */
export interface KeyCacheConfig {
  JWKS_CACHE_SECONDS?: number
  JWKS_COOLDOWN_SECONDS?: number
}

/**
 * The verifier a service gets from `JWT_PUBLIC_KEY` (PEM) or, failing that,
 * `JWKS_URL`. Neither set is a configuration error naming both. With a JWKS,
 * a key identity no longer publishes stops verifying within
 * `JWKS_CACHE_SECONDS`: half of it in jose's key-set cache, half in the
 * verifier's caches of verified tokens (its own and fast-jwt's).
 */
export function tokenVerifierFromConfig(config: { JWT_PUBLIC_KEY?: string; JWKS_URL?: string } & KeyCacheConfig): TokenVerifier {
  if (config.JWT_PUBLIC_KEY) {
    let key: VerifyingKey
    try {
      key = verifyingKeyFromPem(config.JWT_PUBLIC_KEY.replaceAll('\\n', '\n'))
    } catch (error) {
      throw new ConfigError('JWT_PUBLIC_KEY', `is not a usable public key: ${(error as Error).message.split('\n')[0]}`)
    }
    return createTokenVerifier(staticKeyResolver([key]))
  }
  if (config.JWKS_URL) {
    const halfLifetimeMs = ((config.JWKS_CACHE_SECONDS ?? 300) * 1000) / 2
    const resolver = jwksKeyResolver(config.JWKS_URL, { cacheMaxAgeMs: halfLifetimeMs, cooldownMs: (config.JWKS_COOLDOWN_SECONDS ?? 10) * 1000 })
    return createTokenVerifier(resolver, { cacheTtlMs: halfLifetimeMs })
  }
  throw new ConfigError('JWT_PUBLIC_KEY', 'or JWKS_URL is required to verify access tokens')
}
