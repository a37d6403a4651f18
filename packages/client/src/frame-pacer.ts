import type { ClientFrame } from '@chat/contracts'

/** The part of a WebSocket the pacer writes to. */
interface Writable {
  readonly readyState: number
  send(data: string): void
}

const OPEN = 1

/**
 * Sends client frames at most `perSecond` a second with bursts of `burst` (a
 * token bucket); the rest wait in order. The gateway closes a socket that
 * passes its frame limit (4429), so re-subscribing many rooms after a
 * reconnect is paced instead of refused.
 */
export class FramePacer {
  readonly #perSecond: number
  readonly #burst: number
  #queue: ClientFrame[] = []
  #timer: ReturnType<typeof setTimeout> | undefined
  #tokens: number
  #tokensAt = Date.now()

  constructor(options: { perSecond: number; burst: number }) {
    this.#perSecond = options.perSecond
    this.#burst = options.burst
    this.#tokens = options.burst
  }

  /** Sends `frame` on `ws` now, or queues it behind the frames that wait. False when `ws` is not open. */
  send(ws: Writable | undefined, frame: ClientFrame): boolean {
    if (!ws || ws.readyState !== OPEN) return false
    if (this.#queue.length === 0 && this.#takeToken()) {
      ws.send(JSON.stringify(frame))
      return true
    }
    this.#queue.push(frame)
    this.#schedule(ws)
    return true
  }

  /** Drops what waits: it was for a connection that is gone (the next one re-sends what it needs). */
  clear(): void {
    this.#queue = []
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #takeToken(): boolean {
    const now = Date.now()
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#tokensAt) * this.#perSecond) / 1000)
    this.#tokensAt = now
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  #schedule(ws: Writable): void {
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      if (ws.readyState !== OPEN) return
      while (this.#queue.length > 0 && this.#takeToken()) ws.send(JSON.stringify(this.#queue.shift()))
      if (this.#queue.length > 0) this.#schedule(ws)
    }, Math.ceil(1000 / this.#perSecond))
  }
}
