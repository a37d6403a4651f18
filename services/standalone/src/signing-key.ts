import { readFile, writeFile } from 'node:fs/promises'
import { generateSigningKey, signingKeyFromPem, type SigningKey } from '@chat/service-kit'

/**
 * The key in `file`, or a new Ed25519 key written there (owner-only) on first
 * start, so that tokens stay valid across restarts.
 */
export async function loadOrCreateSigningKey(file: string): Promise<{ key: SigningKey; created: boolean }> {
  try {
    return { key: signingKeyFromPem(await readFile(file, 'utf8')), created: false }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const key = generateSigningKey()
  try {
    // 'wx': if another process wrote the key meanwhile, keep its key.
    await writeFile(file, key.privateKeyPem, { mode: 0o600, flag: 'wx' })
    return { key, created: true }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return { key: signingKeyFromPem(await readFile(file, 'utf8')), created: false }
  }
}
