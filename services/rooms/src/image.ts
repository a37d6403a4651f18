import sharp from 'sharp'
import { roomErrors } from './errors.js'

export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif'

/** Tells the image type from its first bytes; the file name and part header are never trusted. */
export function sniffImageType(bytes: Uint8Array): ImageType | undefined {
  const startsWith = (signature: number[], offset = 0) => signature.every((byte, index) => bytes[offset + index] === byte)
  if (startsWith([0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  if (startsWith([0x47, 0x49, 0x46, 0x38]) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61) return 'image/gif'
  if (startsWith([0x52, 0x49, 0x46, 0x46]) && startsWith([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp'
  return undefined
}

export interface ProcessedAvatar {
  bytes: Buffer
  contentType: 'image/webp'
  width: number
  height: number
}

export interface AvatarLimits {
  /** Largest input in pixels (width x height), checked from the header before any decoding. */
  maxInputPixels: number
  /** Longest output side. */
  maxSide: number
}

export const defaultAvatarLimits: AvatarLimits = { maxInputPixels: 40_000_000, maxSide: 512 }

/**
 * Re-encodes an uploaded image as WebP, at most `maxSide` on its longer side,
 * aspect kept, never upscaled, oriented by its EXIF tag and with every piece
 * of metadata dropped. Only the first frame of an animation is kept.
 * A decompression bomb is refused from its header, before decoding.
 */
export async function processAvatar(bytes: Buffer, limits: AvatarLimits = defaultAvatarLimits): Promise<ProcessedAvatar> {
  if (!sniffImageType(bytes)) throw roomErrors.unsupportedImage()
  let metadata: sharp.Metadata
  try {
    metadata = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata()
  } catch {
    throw roomErrors.invalidImage()
  }
  const width = metadata.width ?? 0
  const height = metadata.pageHeight ?? metadata.height ?? 0
  if (width <= 0 || height <= 0) throw roomErrors.invalidImage()
  if (width * height > limits.maxInputPixels) throw roomErrors.imageTooLarge(width, height, limits.maxInputPixels)
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limits.maxInputPixels, pages: 1, failOn: 'truncated' })
      .rotate()
      .resize({ width: limits.maxSide, height: limits.maxSide, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 82 })
      .toBuffer({ resolveWithObject: true })
    return { bytes: data, contentType: 'image/webp', width: info.width, height: info.height }
  } catch {
    throw roomErrors.invalidImage()
  }
}
