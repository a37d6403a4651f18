import type { Message } from '@chat/client'
import { useEffect, useState } from 'preact/hooks'
import { useChat } from '../chat.js'
import { useStore } from '../store.js'
import { Composer } from './composer.js'
import { timeFormat } from './message-item.js'
import { MessageText } from './message-text.js'


/**
 * One thread: its root, its replies in seq order and a reply box. The
 * replies sent before it opened come from the thread endpoint; the ones sent
 * since arrive as messages of the room's timeline, so both are merged by id.
 */
export function ThreadPanel({ roomId, rootId, onClose }: { roomId: string; rootId: string; onClose: () => void }) {
  const chat = useChat()
  const state = useStore(chat.store)
  const [loaded, setLoaded] = useState<Message[] | null>(null)
  const [failed, setFailed] = useState(false)

  useEffect(() => {
    let current = true
    setLoaded(null)
    setFailed(false)
    chat.thread(roomId, rootId).then(
      (replies) => current && setLoaded(replies),
      () => current && setFailed(true)
    )
    return () => {
      current = false
    }
  }, [roomId, rootId])

  const timeline = state.timelines[roomId]?.messages ?? []
  const root = timeline.find((message) => message.id === rootId)
  const byId = new Map<string, Message>()
  for (const reply of loaded ?? []) byId.set(reply.id, reply)
  // The room's copy is the fresher one (edits, deletions, reactions arrive there).
  for (const message of timeline) if (message.reply_to === rootId) byId.set(message.id, message)
  const replies = [...byId.values()].sort((a, b) => a.seq - b.seq)

  return (
    <aside class="thread-panel" aria-label="Thread">
      <header class="thread-header">
        <h3>Thread</h3>
        <button type="button" onClick={onClose}>
          Close thread
        </button>
      </header>
      {root && <ThreadLine message={root} root />}
      {failed && <p class="form-error" role="alert">The thread could not be loaded.</p>}
      {loaded === null && !failed && <p class="muted">Loading replies…</p>}
      <ol class="thread-replies" aria-label="Replies">
        {replies.map((reply) => (
          <ThreadLine key={reply.id} message={reply} />
        ))}
      </ol>
      <Composer roomId={roomId} replyTo={rootId} />
    </aside>
  )
}

function ThreadLine({ message, root = false }: { message: Message; root?: boolean }) {
  const chat = useChat()
  const Tag = root ? 'div' : 'li'
  return (
    <Tag class={`thread-line${root ? ' thread-root' : ''}`} data-message-id={message.id}>
      <div class="message-head">
        <span class="sender">{message.sender.display_name}</span>
        <time dateTime={message.created_at}>{timeFormat.format(new Date(message.created_at))}</time>
      </div>
      <p class="message-text">
        {message.deleted ? <span class="muted">Message deleted</span> : <MessageText text={message.text} mentions={message.mentions} meId={chat.me?.id} />}
      </p>
    </Tag>
  )
}
