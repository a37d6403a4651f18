import type { Message, MessagePageQuery } from '@chat/client'
import type { ActionContext } from './action-context.js'
import { describeError } from './describe-error.js'
import type { ChatState } from './state/chat-state.js'
import {
  addPending,
  confirmMessage,
  discardPending,
  latestPageLoaded,
  markDeleted,
  olderPageLoaded,
  pageReloaded,
  patchPending,
  patchTimeline,
  replaceMessage,
  setMyReaction,
  startLoading,
  type PendingLine
} from './state/timeline.slice.js'
import { TypingThrottle } from './state/typing.slice.js'

const pageSize = 50
const ackPatienceMs = 8_000

function newClientMsgId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

/** A room's conversation I/O: pages of messages, sending, editing, reactions, the caller's typing. */
export class TimelineActions {
  readonly #context: ActionContext
  readonly #typingThrottle = new TypingThrottle()

  constructor(context: ActionContext) {
    this.#context = context
  }

  #set(update: Partial<ChatState> | ((state: ChatState) => Partial<ChatState>)): void {
    this.#context.store.set(update)
  }

  /** Shows a room; its latest page loads the first time. */
  select(roomId: string | null): void {
    this.#set({ selectedRoomId: roomId })
    if (roomId !== null && !this.#context.store.get().timelines[roomId]) void this.#loadLatest(roomId)
  }

  async #loadLatest(roomId: string): Promise<void> {
    this.#set((state) => startLoading(state, roomId))
    try {
      const page = await this.#context.client.messages.list(roomId, { limit: pageSize })
      this.#set((state) => latestPageLoaded(state, roomId, page))
    } catch (error) {
      this.#set((state) => patchTimeline(state, roomId, () => ({ status: 'error' })))
      this.#context.report(error)
    }
  }

  async loadOlder(roomId: string): Promise<void> {
    const timeline = this.#context.store.get().timelines[roomId]
    if (!timeline?.older || timeline.loadingOlder) return
    this.#set((state) => patchTimeline(state, roomId, () => ({ loadingOlder: true })))
    try {
      const page = await this.#context.client.messages.list(roomId, timeline.older)
      this.#set((state) => olderPageLoaded(state, roomId, page))
    } catch (error) {
      this.#set((state) => patchTimeline(state, roomId, () => ({ loadingOlder: false })))
      this.#context.report(error)
    }
  }

  /** After `resync_required`: the latest page replaces a timeline on screen; failures are the caller's to handle. */
  async reload(roomId: string): Promise<void> {
    if (!this.#context.store.get().timelines[roomId]) return
    const page = await this.#context.client.messages.list(roomId, { limit: pageSize })
    this.#set((state) => pageReloaded(state, roomId, page))
  }

  /** Sends a message, a reply in the thread of `replyTo` when given. */
  send(roomId: string, text: string, replyTo?: string): void {
    const line: PendingLine = { clientMsgId: newClientMsgId(), text, status: 'sending', ...(replyTo === undefined ? {} : { replyTo }) }
    this.#set((state) => addPending(state, roomId, line))
    // The next keystroke starts another message: the others hear of it at once.
    this.#typingThrottle.reset()
    const sent = this.#context.socket.sendMessage(roomId, text, line.clientMsgId, replyTo)
    if (!sent) {
      this.#setPending(roomId, line.clientMsgId, { status: 'failed', error: 'offline' })
      return
    }
    // The socket re-sends it after a reconnect; past our patience the line offers a retry.
    const patience = setTimeout(() => this.#setPending(roomId, line.clientMsgId, { status: 'failed', error: 'Not delivered yet' }), ackPatienceMs)
    sent.then(
      (message) => {
        clearTimeout(patience)
        this.#confirm(roomId, message)
      },
      (error: unknown) => {
        clearTimeout(patience)
        this.#setPending(roomId, line.clientMsgId, { status: 'failed', error: describeError(error) })
      }
    )
  }

  /** Sends a failed line again over HTTP with the same client_msg_id, so it is stored at most once. */
  retry(roomId: string, clientMsgId: string): void {
    const line = this.#context.store.get().timelines[roomId]?.pending.find((pending) => pending.clientMsgId === clientMsgId)
    if (!line) return
    this.#setPending(roomId, clientMsgId, { status: 'sending', error: undefined })
    const body = line.replyTo === undefined ? { text: line.text, client_msg_id: clientMsgId } : { text: line.text, client_msg_id: clientMsgId, reply_to: line.replyTo }
    this.#context.client.messages.send(roomId, body).then(
      ({ message }) => this.#confirm(roomId, message),
      (error: unknown) => this.#setPending(roomId, clientMsgId, { status: 'failed', error: describeError(error) })
    )
  }

  discard(roomId: string, clientMsgId: string): void {
    this.#set((state) => discardPending(state, roomId, clientMsgId))
  }

  #setPending(roomId: string, clientMsgId: string, patch: Partial<PendingLine>): void {
    this.#set((state) => patchPending(state, roomId, clientMsgId, patch))
  }

  #confirm(roomId: string, message: Message): void {
    this.#set((state) => confirmMessage(state, roomId, message))
  }

  /**
   * The replies of a thread, oldest first: its pages up to `limit`. Live
   * replies arrive in the room's timeline (each is a message of the room).
   */
  async thread(roomId: string, rootId: string, limit = 200): Promise<Message[]> {
    const replies: Message[] = []
    let query: MessagePageQuery | undefined = { limit: pageSize }
    while (query && replies.length < limit) {
      const page = await this.#context.client.messages.thread(roomId, rootId, query)
      replies.unshift(...page.messages)
      query = page.prev
    }
    return replies
  }

  async edit(roomId: string, messageId: string, text: string): Promise<void> {
    const message = await this.#context.client.messages.edit(roomId, messageId, text)
    this.#set((state) => replaceMessage(state, roomId, message))
  }

  async remove(roomId: string, messageId: string): Promise<void> {
    await this.#context.client.messages.delete(roomId, messageId)
    this.#set((state) => markDeleted(state, roomId, messageId))
  }

  /** Sets the caller's reaction, or removes it when it is the one already set; shown at once, undone on failure. */
  async react(messageId: string, reaction: string): Promise<void> {
    const previous = this.#context.store.get().myReactions[messageId] ?? null
    const next = previous === reaction ? null : reaction
    this.#set((state) => setMyReaction(state, messageId, next))
    try {
      if (next === null) await this.#context.client.reactions.remove(messageId)
      else await this.#context.client.reactions.set(messageId, next)
    } catch (error) {
      this.#set((state) => setMyReaction(state, messageId, previous))
      this.#context.report(error)
    }
  }

  /** The caller typed in the composer. */
  typing(roomId: string): void {
    this.#typingThrottle.typed(() => this.#context.socket.typing(roomId), Date.now())
  }
}
