/**
 * Tokens verified lately, by their text: a repeat request of the same
 * client is answered with a Map lookup. fast-jwt's own cache keys each token
 * by a cryptographic hash of it (SHA-256, or SHA-512 for EdDSA), one hash
 * per request: in the messages service at 1,000 sends/s that hash, with
 * fast-jwt's checks around it, took about 6% of the service's profile
 * samples (issue 14: "token verification results cached by token until
 * expiry"). The text itself is the key because a shorter key that is not a
 * cryptographic hash could collide, and a collision would answer one user's
 * request as another's (fast-jwt's advisory GHSA-rp9m-7r4c-75qg).
 *
 * The price: the bearer tokens of up to `maxEntries` users stay in the
 * heap. An entry is dropped when it is looked up after its time or pushed
 * out by newer ones, not at its time, so on a quiet replica a token can
 * outlive its validity in memory. A heap snapshot or core dump of a service
 * is a secret like the tokens it holds.
 */
export class VerifiedTokens<T extends { expiresAt: number }> {
  private readonly entries = new Map<string, { value: T; until: number }>()

  /**
   * @param ttlMs how long an entry is answered at most (never past its
   *   token's `expiresAt`): a key removed from the JWKS stops verifying its
   *   tokens within this time.
   * @param maxEntries the oldest entry goes when a new one would exceed this.
   */
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number
  ) {}

  /** The value stored for `token`, if it is still valid at `now`. */
  get(token: string, now = Date.now()): T | undefined {
    const entry = this.entries.get(token)
    if (entry === undefined) return undefined
    if (now < entry.until) return entry.value
    this.entries.delete(token)
    return undefined
  }

  set(token: string, value: T, now = Date.now()): void {
    const until = Math.min(now + this.ttlMs, value.expiresAt)
    if (until <= now) return
    // Oldest first: Map keeps insertion order, and a token used again is
    // found before it would be set again, so this evicts the least recently
    // verified (not used) token; it comes back with one signature check.
    this.entries.delete(token)
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next()
      if (!oldest.done) this.entries.delete(oldest.value)
    }
    this.entries.set(token, { value, until })
  }

  get size(): number {
    return this.entries.size
  }
}
