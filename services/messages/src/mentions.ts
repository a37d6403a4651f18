import { displayNameKey, limits } from '@chat/contracts'

/** `@` tokens of one text that are looked up at most; the rest of the text mentions nobody. */
export const maxMentionTokens = 50

// A name may hold up to displayNameChars code points: twice that in UTF-16 units.
const maxNameUnits = limits.displayNameChars * 2
const wordChar = /[\p{L}\p{N}\p{M}_]/u

function isWordCharAt(text: string, index: number): boolean {
  const codePoint = text.codePointAt(index)
  return codePoint !== undefined && wordChar.test(String.fromCodePoint(codePoint))
}

/**
 * The display-name keys each `@` of `text` could name, longest first: the
 * database (chat_mentioned_users, migration 0003) takes, per `@`, the first
 * that names a participant, so `@Adam` mentions Adam rather than Ada.
 *
 * - `@"Ada Lovelace"`: exactly the quoted name.
 * - `@Ada Lovelace, hi`: every run after the `@` that ends before a
 *   non-word character or the end of the text (`Ada`, `Ada Lovelace`,
 *   `Ada Lovelace,`, ...), up to a name's length and never over a line break,
 *   so names with spaces work unquoted too when nobody's name is a longer match.
 *
 * An `@` right after a letter or digit (an e-mail address) starts no token.
 * Case and Unicode form do not matter: keys are `displayNameKey`s.
 */
export function mentionTokens(text: string): string[][] {
  const tokens: string[][] = []
  for (let at = text.indexOf('@'); at !== -1 && tokens.length < maxMentionTokens; at = text.indexOf('@', at + 1)) {
    if (at > 0 && isWordCharAt(text, at - 1)) continue
    const start = at + 1
    if (text[start] === '"') {
      const end = text.indexOf('"', start + 1)
      if (end > start + 1 && end - start - 1 <= maxNameUnits) tokens.push([displayNameKey(text.slice(start + 1, end))])
      continue
    }
    const lineEnd = text.slice(start, start + maxNameUnits).search(/[\r\n]/)
    const limit = lineEnd === -1 ? Math.min(text.length, start + maxNameUnits) : start + lineEnd
    const candidates: string[] = []
    for (let end = limit; end > start; end--) {
      const last = text.charCodeAt(end - 1)
      // Never split a surrogate pair.
      if (last >= 0xd800 && last <= 0xdbff) continue
      if (end < text.length && isWordCharAt(text, end)) continue
      candidates.push(displayNameKey(text.slice(start, end)))
    }
    if (candidates.length > 0) tokens.push(candidates)
  }
  return tokens
}
