import { InvalidSubjectError } from './errors.js'

/**
 * True when `subject` matches `pattern` with NATS semantics: `*` matches exactly
 * one token, `>` (last token only) matches one or more trailing tokens.
 * Malformed input (empty tokens, `>` not last) never matches.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split('.')
  const have = subject.split('.')
  for (let i = 0; i < want.length; i++) {
    const token = want[i]
    if (token === undefined || token === '') return false
    if (token === '>') return i === want.length - 1 && have.length > i && have.slice(i).every((t) => t !== '')
    const actual = have[i]
    if (actual === undefined || actual === '') return false
    if (token !== '*' && token !== actual) return false
  }
  return want.length === have.length
}

// Whitespace would split the NATS protocol line.
const BAD_CHARS = /[\s]/

/** Throws InvalidSubjectError unless `subject` is a concrete subject (no wildcards). */
export function assertPublishSubject(subject: string): void {
  checkTokens(subject)
  if (subject.split('.').some((t) => t === '*' || t === '>')) {
    throw new InvalidSubjectError(subject, 'wildcards are only allowed in subscriptions')
  }
}

/** Throws InvalidSubjectError unless `pattern` is a valid subscription subject. */
export function assertSubscribePattern(pattern: string): void {
  checkTokens(pattern)
  const tokens = pattern.split('.')
  if (tokens.slice(0, -1).includes('>')) throw new InvalidSubjectError(pattern, '">" must be the last token')
}

function checkTokens(subject: string): void {
  if (subject === '') throw new InvalidSubjectError(subject, 'empty')
  if (BAD_CHARS.test(subject)) throw new InvalidSubjectError(subject, 'contains whitespace')
  if (subject.split('.').includes('')) throw new InvalidSubjectError(subject, 'empty token')
}
