import type { User } from '@chat/client'

export interface TypingUser {
  user: User
  until: number
}

/** Who else is typing, by room. */
export interface TypingState {
  typing: Record<string, TypingUser[]>
}

export const emptyTyping: TypingState = { typing: {} }

/** A typing frame says "for at most 5 s unless repeated". */
export const typingShownMs = 5_000

/**
 * Shows `user` typing in the room until `now + typingShownMs`, or stops
 * showing the user when `user` is null. Entries already past are dropped on
 * the way.
 */
export function setTyper<S extends TypingState>(state: S, roomId: string, userId: string, user: User | null, now: number): S {
  const others = (state.typing[roomId] ?? []).filter((entry) => entry.user.id !== userId && entry.until > now)
  const list = user ? [...others, { user, until: now + typingShownMs }] : others
  return { ...state, typing: { ...state.typing, [roomId]: list } }
}

export function isTyping(state: TypingState, roomId: string, userId: string): boolean {
  return state.typing[roomId]?.some((entry) => entry.user.id === userId) ?? false
}

export function expireTypers<S extends TypingState>(state: S, now: number): S {
  return {
    ...state,
    typing: Object.fromEntries(Object.entries(state.typing).map(([roomId, list]) => [roomId, list.filter((entry) => entry.until > now)]))
  }
}

export function removeTyping<S extends TypingState>(state: S, roomId: string): S {
  const { [roomId]: _typing, ...typing } = state.typing
  return { ...state, typing }
}

/** When the first shown entry runs out, if any is shown. */
export function nextTypingExpiry(state: TypingState): number | undefined {
  const entries = Object.values(state.typing).flat()
  return entries.length === 0 ? undefined : Math.min(...entries.map((entry) => entry.until))
}

/**
 * One timer for every room: typing frames stop coming when someone stops,
 * so their entries must run out on their own.
 */
export class TypingExpiry {
  #timer: ReturnType<typeof setTimeout> | undefined

  /** (Re)arms the timer for the first entry of `state` to run out; `expire` runs then. */
  schedule(state: TypingState, expire: () => void): void {
    this.cancel()
    const next = nextTypingExpiry(state)
    if (next === undefined) return
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        expire()
      },
      Math.max(50, next - Date.now())
    )
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }
}

/** Typing frames out are repeated at most this often while the caller types. */
const typingRepeatMs = 2_000

/** Spaces out the caller's own typing frames; a sent message starts over. */
export class TypingThrottle {
  #lastSentAt = 0

  /** Calls `send` unless one was sent less than 2 s ago; `send` says whether it went out. */
  typed(send: () => boolean, now: number): void {
    if (now - this.#lastSentAt < typingRepeatMs) return
    if (send()) this.#lastSentAt = now
  }

  reset(): void {
    this.#lastSentAt = 0
  }
}
