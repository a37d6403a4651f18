import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { Jwks } from '@chat/contracts'

export type SigningAlgorithm = 'EdDSA' | 'ES256'
export const verifyingAlgorithms: readonly SigningAlgorithm[] = ['EdDSA', 'ES256']

export interface SigningKey {
  kid: string
  alg: SigningAlgorithm
  privateKeyPem: string
  publicKeyPem: string
}

export interface VerifyingKey {
  kid: string
  alg: SigningAlgorithm
  publicKeyPem: string
}

function algorithmOf(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}: use Ed25519 (EdDSA) or P-256 (ES256)`)
}

/** RFC 7638 thumbprint of the public key: a stable key id. */
function thumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' })
  const members = jwk.kty === 'OKP' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url')
}

/** A fresh Ed25519 signing key. */
export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519')
  return signingKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())
}

/** Reads a PKCS#8 PEM private key (Ed25519 or P-256). */
export function signingKeyFromPem(privateKeyPem: string): SigningKey {
  const privateKey = createPrivateKey(privateKeyPem)
  const publicKey = createPublicKey(privateKey)
  return {
    kid: thumbprint(publicKey),
    alg: algorithmOf(privateKey),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString()
  }
}

/** Reads an SPKI PEM public key. */
export function verifyingKeyFromPem(publicKeyPem: string): VerifyingKey {
  const publicKey = createPublicKey(publicKeyPem)
  return { kid: thumbprint(publicKey), alg: algorithmOf(publicKey), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }
}

/** Reads every SPKI PEM public key in `text` (blocks one after another; escaped `\\n` newlines allowed). */
export function verifyingKeysFromPems(text: string): VerifyingKey[] {
  const blocks = text.replaceAll('\\n', '\n').match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? []
  if (blocks.length === 0 && text.trim() !== '') throw new Error('no PEM public key (-----BEGIN PUBLIC KEY-----) in it')
  return blocks.map((block) => verifyingKeyFromPem(block))
}

/** A verifying key from a key object (a WebCrypto key converted with `KeyObject.from`) and the `kid` it was published under. */
export function verifyingKeyFromKeyObject(kid: string, publicKey: KeyObject): VerifyingKey {
  return { kid, alg: algorithmOf(publicKey), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }
}

/** The JWKS document that publishes verifying keys. */
export function toJwks(keys: readonly VerifyingKey[]): Jwks {
  return {
    keys: keys.map((key) => {
      const jwk = createPublicKey(key.publicKeyPem).export({ format: 'jwk' })
      return { ...jwk, kid: key.kid, alg: key.alg, use: 'sig' as const, kty: String(jwk.kty) }
    })
  }
}
