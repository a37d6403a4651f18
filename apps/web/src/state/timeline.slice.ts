import type { Message, MessagePage, ReactionCounts } from '@chat/client'

/** A message typed here and not yet confirmed by the server. */
export interface PendingLine {
  clientMsgId: string
  text: string
  /** The message this one replies to (its thread). */
  replyTo?: string
  status: 'sending' | 'failed'
  error?: string
}

/** What the conversation view shows of one room. */
export interface Timeline {
  status: 'loading' | 'ready' | 'error'
  /** Ascending `seq`, one entry per message id. */
  messages: Message[]
  pending: PendingLine[]
  /** The query of the next older page, when there is one. */
  older?: { before_seq: number; limit?: number }
  loadingOlder: boolean
}

/** The timelines of the rooms opened so far, and the caller's reactions. */
export interface TimelinesState {
  timelines: Record<string, Timeline>
  /** The caller's own reaction by message id (events carry `my_reaction: null`). */
  myReactions: Record<string, string | null>
}

export const emptyTimelines: TimelinesState = { timelines: {}, myReactions: {} }

/** Inserts or replaces messages by id, keeping ascending seq. `prefer` decides which copy wins on a clash. */
export function mergeMessages(current: Message[], incoming: readonly Message[], prefer: 'incoming' | 'current'): Message[] {
  const byId = new Map(current.map((message) => [message.id, message]))
  for (const message of incoming) {
    if (prefer === 'current' && byId.has(message.id)) continue
    byId.set(message.id, message)
  }
  return [...byId.values()].sort((a, b) => a.seq - b.seq)
}

/** Changes the room's timeline; a room never opened has none, and nothing is kept for it. */
export function patchTimeline<S extends TimelinesState>(state: S, roomId: string, update: (timeline: Timeline) => Partial<Timeline>): S {
  const timeline = state.timelines[roomId]
  if (!timeline) return state
  return { ...state, timelines: { ...state.timelines, [roomId]: { ...timeline, ...update(timeline) } } }
}

/** A (re)opened room: lines still being sent stay on screen while the latest page loads. */
export function startLoading<S extends TimelinesState>(state: S, roomId: string): S {
  const pending = state.timelines[roomId]?.pending ?? []
  return { ...state, timelines: { ...state.timelines, [roomId]: { status: 'loading', messages: [], pending, loadingOlder: false } } }
}

export function removeTimeline<S extends TimelinesState>(state: S, roomId: string): S {
  const { [roomId]: _timeline, ...timelines } = state.timelines
  return { ...state, timelines }
}

/**
 * Pages are the only source of `my_reaction` besides the caller's own actions:
 * what is known already is as new as the page or newer.
 */
export function rememberMyReactions<S extends TimelinesState>(state: S, messages: readonly Message[]): S {
  const fresh = messages.filter((message) => !(message.id in state.myReactions))
  if (fresh.length === 0) return state
  return { ...state, myReactions: { ...state.myReactions, ...Object.fromEntries(fresh.map((message) => [message.id, message.my_reaction])) } }
}

export function setMyReaction<S extends TimelinesState>(state: S, messageId: string, reaction: string | null): S {
  return { ...state, myReactions: { ...state.myReactions, [messageId]: reaction } }
}

/** The latest page of a room; events that arrived while it loaded are at least as new as it. */
export function latestPageLoaded<S extends TimelinesState>(state: S, roomId: string, page: MessagePage): S {
  return patchTimeline(rememberMyReactions(state, page.messages), roomId, (timeline) => ({
    status: 'ready',
    messages: mergeMessages(timeline.messages, page.messages, 'current'),
    older: page.prev
  }))
}

export function olderPageLoaded<S extends TimelinesState>(state: S, roomId: string, page: MessagePage): S {
  return patchTimeline(rememberMyReactions(state, page.messages), roomId, (timeline) => ({
    messages: mergeMessages(timeline.messages, page.messages, 'current'),
    older: page.prev,
    loadingOlder: false
  }))
}

/** After resync_required the history between the old messages and this page is unknown: the page replaces them. */
export function pageReloaded<S extends TimelinesState>(state: S, roomId: string, page: MessagePage): S {
  return patchTimeline(rememberMyReactions(state, page.messages), roomId, () => ({ status: 'ready', messages: page.messages, older: page.prev }))
}

export function addPending<S extends TimelinesState>(state: S, roomId: string, line: PendingLine): S {
  return patchTimeline(state, roomId, (timeline) => ({ pending: [...timeline.pending, line] }))
}

export function patchPending<S extends TimelinesState>(state: S, roomId: string, clientMsgId: string, patch: Partial<PendingLine>): S {
  return patchTimeline(state, roomId, (timeline) => ({
    pending: timeline.pending.map((line) => (line.clientMsgId === clientMsgId ? { ...line, ...patch } : line))
  }))
}

export function discardPending<S extends TimelinesState>(state: S, roomId: string, clientMsgId: string): S {
  return patchTimeline(state, roomId, (timeline) => ({ pending: timeline.pending.filter((line) => line.clientMsgId !== clientMsgId) }))
}

/**
 * A message the server stored (an ack, an HTTP answer or a `message.created`
 * event, in whichever order they come): the copy already shown stays, and the
 * pending line with its client_msg_id goes.
 */
export function confirmMessage<S extends TimelinesState>(state: S, roomId: string, message: Message): S {
  return patchTimeline(state, roomId, (timeline) => ({
    messages: mergeMessages(timeline.messages, [message], 'current'),
    pending: timeline.pending.filter((line) => line.clientMsgId !== message.client_msg_id)
  }))
}

/** An edit: the incoming copy is the newer one. */
export function replaceMessage<S extends TimelinesState>(state: S, roomId: string, message: Message): S {
  return patchTimeline(state, roomId, (timeline) => ({ messages: mergeMessages(timeline.messages, [message], 'incoming') }))
}

export function markDeleted<S extends TimelinesState>(state: S, roomId: string, messageId: string): S {
  return patchTimeline(state, roomId, (timeline) => ({
    messages: timeline.messages.map((message) => (message.id === messageId ? { ...message, deleted: true, text: '', reactions: {} } : message))
  }))
}

/** A reply's event carries its thread root's new counts. */
export function setThreadCounts<S extends TimelinesState>(state: S, roomId: string, root: { id: string; reply_count: number; last_reply_at: string }): S {
  return patchTimeline(state, roomId, (timeline) => ({
    messages: timeline.messages.map((message) =>
      message.id === root.id ? { ...message, reply_count: root.reply_count, last_reply_at: root.last_reply_at } : message
    )
  }))
}

export function setReactionCounts<S extends TimelinesState>(state: S, roomId: string, messageId: string, reactions: ReactionCounts): S {
  return patchTimeline(state, roomId, (timeline) => ({
    messages: timeline.messages.map((message) => (message.id === messageId ? { ...message, reactions } : message))
  }))
}
