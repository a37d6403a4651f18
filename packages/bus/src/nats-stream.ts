import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  type JetStreamManager,
  type StreamConfig
} from '@nats-io/jetstream'
import { nanos } from '@nats-io/nats-core'
import { DEFAULT_DUPLICATE_WINDOW_MS, type BusLogger } from './port.js'

// JetStream API error "stream name already in use" (with a different config).
const STREAM_NAME_IN_USE = 10058

/** Limits of the event stream, applied when it is created and whenever they differ from what the server has. */
export interface StreamLimits {
  /** Copies of each message in a JetStream cluster (1..5). */
  replicas?: number
  /** Messages older than this are discarded (0: kept until another limit applies). */
  maxAgeMs?: number
  /** The oldest messages are discarded past this size (-1: unlimited). */
  maxBytes?: number
}

/**
 * Creates the stream, or aligns its subjects. Safe when several processes
 * start at once: creating an identical stream is idempotent on the server, and
 * a creator that lost the race falls back to the update path.
 */
export async function ensureStream(jsm: JetStreamManager, name: string, subjects: string[], limits: StreamLimits, logger: BusLogger | undefined): Promise<void> {
  const wanted = {
    ...(limits.replicas !== undefined ? { num_replicas: limits.replicas } : {}),
    ...(limits.maxAgeMs !== undefined ? { max_age: nanos(limits.maxAgeMs) } : {}),
    ...(limits.maxBytes !== undefined ? { max_bytes: limits.maxBytes } : {})
  }
  const existing = await streamInfo(jsm, name)
  if (!existing) {
    try {
      await jsm.streams.add({
        name,
        subjects,
        storage: StorageType.File,
        duplicate_window: nanos(DEFAULT_DUPLICATE_WINDOW_MS),
        // Past max_bytes the oldest events go: the database is the record, the stream a window.
        discard: DiscardPolicy.Old,
        ...wanted
      })
      logger?.info({ stream: name, subjects, ...wanted }, 'created JetStream stream')
      return
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE)) throw error
    }
  }
  const info = existing ?? (await jsm.streams.info(name))
  const current = info.config
  const changes: Partial<StreamConfig> = {}
  if (!sameSet(current.subjects ?? [], subjects)) changes.subjects = subjects
  for (const [key, value] of Object.entries(wanted) as Array<[keyof typeof wanted, number]>) {
    if (current[key] !== value) Object.assign(changes, { [key]: value })
  }
  if (Object.keys(changes).length > 0) {
    await jsm.streams.update(name, changes)
    const from = Object.fromEntries(Object.keys(changes).map((key) => [key, current[key as keyof StreamConfig]]))
    logger?.warn({ stream: name, from, to: changes }, 'updated JetStream stream settings')
  }
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<Awaited<ReturnType<JetStreamManager['streams']['info']>> | undefined> {
  try {
    return await jsm.streams.info(name)
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined
    throw error
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s) => b.includes(s))
}
