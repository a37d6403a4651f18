import type { ChatClient } from '@chat/client'
import type { SocketSupervisor } from './socket-supervisor.js'
import type { ChatState } from './state/chat-state.js'
import type { Store } from './store.js'

/** What the actions of a signed-in session share; `Chat` makes one and hands it to each. */
export interface ActionContext {
  readonly client: ChatClient
  readonly store: Store<ChatState>
  readonly socket: SocketSupervisor
  /** False once signed out: an answer that arrives then is dropped. */
  active(): boolean
  /** Shows a failure in the notice bar. */
  report(error: unknown): void
}
