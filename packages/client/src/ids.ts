/**
 * A random UUID v4. `crypto.randomUUID` is missing in insecure browser
 * contexts (plain http on a LAN address), hence the fallback; these ids only
 * need to be unique per sender, not unguessable.
 */
export function randomId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID()
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (char) => {
    const nibble = Math.floor(Math.random() * 16)
    return (char === 'x' ? nibble : (nibble & 0x3) | 0x8).toString(16)
  })
}
