/**
 * The key under which a display name is unique and searched: Unicode NFC,
 * then lower case. The name itself is stored and returned as sent.
 *
 * @example displayNameKey('ÉVA') === displayNameKey('e\u0301va') // true
 */
export function displayNameKey(displayName: string): string {
  return displayName.normalize('NFC').toLowerCase()
}
