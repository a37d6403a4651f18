import { createContext } from 'preact'
import { useContext, useEffect, useReducer } from 'preact/hooks'

/** A minimal observable state container: immutable snapshots, shallow merges. */
export interface Store<T extends object> {
  get(): T
  set(update: Partial<T> | ((state: T) => Partial<T>)): void
  subscribe(listener: () => void): () => void
}

export function createStore<T extends object>(initial: T): Store<T> {
  let state = initial
  const listeners = new Set<() => void>()
  return {
    get: () => state,
    set(update) {
      const patch = typeof update === 'function' ? update(state) : update
      state = { ...state, ...patch }
      for (const listener of [...listeners]) listener()
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    }
  }
}

/** Re-renders the calling component whenever the store changes; returns the current snapshot. */
export function useStore<T extends object>(store: Store<T>): T {
  const [, rerender] = useReducer((count: number, _change: void) => count + 1, 0)
  useEffect(() => store.subscribe(() => rerender()), [store])
  return store.get()
}

export function createRequiredContext<T>(name: string) {
  const context = createContext<T | null>(null)
  function use(): T {
    const value = useContext(context)
    if (value === null) throw new Error(`${name} is missing: render inside its Provider`)
    return value
  }
  return { Provider: context.Provider, use }
}
