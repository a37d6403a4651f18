// Latency histograms of the realtime benchmark: fixed buckets, so that the
// client workers send sparse [bucket, count] pairs and the parent adds them.

/** 10 µs buckets up to 100 ms, then 1 ms buckets up to 60 s. */
export const histogramBuckets = 10_000 + 59_900

export function bucketOf(ms: number): number {
  if (ms < 0) return 0
  if (ms < 100) return Math.floor(ms * 100)
  return Math.min(histogramBuckets - 1, 10_000 + Math.floor(ms - 100))
}

/** The middle of a bucket, in ms. */
export function bucketMs(bucket: number): number {
  return bucket < 10_000 ? (bucket + 0.5) / 100 : 100 + (bucket - 10_000) + 0.5
}

/** The non-empty buckets as [bucket, count] pairs. */
export function toSparse(histogram: Int32Array): Array<[number, number]> {
  const pairs: Array<[number, number]> = []
  for (let bucket = 0; bucket < histogram.length; bucket++) if (histogram[bucket]) pairs.push([bucket, histogram[bucket]!])
  return pairs
}

/** Adds sparse histograms into one dense histogram. */
export function mergeSparse(parts: Array<Array<[number, number]>>): { histogram: Int32Array; samples: number } {
  const histogram = new Int32Array(histogramBuckets)
  let samples = 0
  for (const part of parts) for (const [bucket, count] of part) {
    histogram[bucket]! += count
    samples += count
  }
  return { histogram, samples }
}

export function percentileOf(histogram: Int32Array, total: number, p: number): number {
  if (total === 0) return 0
  const rank = Math.ceil((p / 100) * total)
  let seen = 0
  for (let bucket = 0; bucket < histogram.length; bucket++) {
    seen += histogram[bucket]!
    if (seen >= rank) return bucketMs(bucket)
  }
  return bucketMs(histogram.length - 1)
}

/** The highest non-empty bucket in ms (0 for an empty histogram). */
export function maxOf(histogram: Int32Array): number {
  for (let bucket = histogram.length - 1; bucket >= 0; bucket--) if (histogram[bucket]) return bucketMs(bucket)
  return 0
}
