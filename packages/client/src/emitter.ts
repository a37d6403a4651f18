/** Listener signatures by event name. */
export type EventMap = Record<string, (...args: never[]) => void>

/**
 * A small typed event emitter. A listener that throws does not stop the
 * others nor the socket: its error is rethrown on a fresh task, where the
 * host reports it as uncaught.
 */
export class Emitter<Events extends EventMap> {
  #listeners = new Map<keyof Events, Set<Events[keyof Events]>>()

  /** Adds a listener; the returned function removes it. */
  on<Name extends keyof Events>(name: Name, listener: Events[Name]): () => void {
    let set = this.#listeners.get(name)
    if (!set) {
      set = new Set()
      this.#listeners.set(name, set)
    }
    set.add(listener)
    return () => this.off(name, listener)
  }

  off<Name extends keyof Events>(name: Name, listener: Events[Name]): void {
    this.#listeners.get(name)?.delete(listener)
  }

  protected emit<Name extends keyof Events>(name: Name, ...args: Parameters<Events[Name]>): void {
    const set = this.#listeners.get(name)
    if (!set) return
    for (const listener of [...set]) {
      try {
        ;(listener as (...values: Parameters<Events[Name]>) => void)(...args)
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  protected removeAllListeners(): void {
    this.#listeners.clear()
  }
}
