import type { Emoji, Message } from '@chat/client'
import { useState } from 'preact/hooks'
import { describeError, useChat, type PendingLine } from '../chat.js'
import { MessageText } from './message-text.js'
import { SenderName } from './sender-name.js'

/** Hours and minutes in the reader's locale: a message's time in the timeline and in a thread. */
export const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })

export function MessageItem({
  roomId,
  message,
  mine,
  myReaction,
  emoji,
  onOpenThread
}: {
  roomId: string
  message: Message
  mine: boolean
  myReaction: string | null
  emoji: Emoji[]
  /** Shows the thread of this root. */
  onOpenThread: (rootId: string) => void
}) {
  const chat = useChat()
  const [editing, setEditing] = useState(false)
  const [draft, setDraft] = useState(message.text)
  const [picking, setPicking] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const time = timeFormat.format(new Date(message.created_at))

  async function run(action: () => Promise<void>) {
    setError(null)
    try {
      await action()
    } catch (failure) {
      setError(describeError(failure))
    }
  }

  async function save(event: Event) {
    event.preventDefault()
    if (draft.trim() === '') return
    await run(() => chat.edit(roomId, message.id, draft))
    setEditing(false)
  }

  const counts = Object.entries(message.reactions).filter(([, count]) => count > 0)
  const emojiOf = (name: string) => emoji.find((entry) => entry.name === name)
  const mentionsMe = message.mentions.some((user) => user.id === chat.me?.id)

  return (
    <li
      class={`message${mine ? ' mine' : ''}${message.deleted ? ' deleted' : ''}${mentionsMe ? ' mentions-me' : ''}`}
      data-seq={message.seq}
      data-message-id={message.id}
      data-reply-to={message.reply_to ?? undefined}
    >
      <div class="message-head">
        <SenderName sender={message.sender} />
        <time dateTime={message.created_at}>{time}</time>
        {message.edited_at && !message.deleted && <span class="muted">(edited)</span>}
        {message.reply_to && (
          <button type="button" class="link-button reply-marker" onClick={() => onOpenThread(message.reply_to!)}>
            ↳ reply in a thread
          </button>
        )}
        {message.reply_count > 0 && (
          <button type="button" class="link-button reply-count" data-reply-count={message.reply_count} onClick={() => onOpenThread(message.id)}>
            {message.reply_count} {message.reply_count === 1 ? 'reply' : 'replies'}
          </button>
        )}
      </div>
      {message.deleted ? (
        <p class="message-text muted">Message deleted</p>
      ) : editing ? (
        <form class="edit-form" onSubmit={(event) => void save(event)}>
          <label for={`edit-${message.id}`} class="visually-hidden">
            Edit message
          </label>
          <input
            id={`edit-${message.id}`}
            value={draft}
            maxLength={4000}
            onInput={(event) => setDraft(event.currentTarget.value)}
            onKeyDown={(event) => event.key === 'Escape' && setEditing(false)}
            ref={(input) => input?.focus()}
          />
          <button type="submit" class="primary">
            Save
          </button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <p class="message-text">
          <MessageText text={message.text} mentions={message.mentions} meId={chat.me?.id} />
        </p>
      )}
      {!message.deleted && (
        <div class="message-actions">
          {counts.map(([name, count]) => {
            const entry = emojiOf(name)
            const own = myReaction === name
            return (
              <button
                key={name}
                type="button"
                class={`reaction${own ? ' own' : ''}`}
                aria-pressed={own}
                aria-label={`${entry?.label ?? name}: ${count}${own ? ', yours' : ''}`}
                data-reaction={name}
                data-count={count}
                onClick={() => void run(() => chat.react(message.id, name))}
              >
                {entry?.emoji ?? name} {count}
              </button>
            )
          })}
          <button type="button" class="quiet" aria-expanded={picking} aria-label="Add a reaction" onClick={() => setPicking(!picking)}>
            ☺+
          </button>
          <button type="button" class="quiet" aria-label="Reply in thread" onClick={() => onOpenThread(message.reply_to ?? message.id)}>
            Reply
          </button>
          {mine && !editing && (
            <>
              <button
                type="button"
                class="quiet"
                aria-label="Edit message"
                onClick={() => {
                  setDraft(message.text)
                  setEditing(true)
                }}
              >
                Edit
              </button>
              <button type="button" class="quiet" aria-label="Delete message" onClick={() => void run(() => chat.remove(roomId, message.id))}>
                Delete
              </button>
            </>
          )}
        </div>
      )}
      {picking && !message.deleted && (
        <div class="emoji-picker" role="group" aria-label="Choose a reaction">
          {emoji.map((entry) => (
            <button
              key={entry.name}
              type="button"
              aria-label={entry.label}
              aria-pressed={myReaction === entry.name}
              title={entry.label}
              onClick={() => {
                setPicking(false)
                void run(() => chat.react(message.id, entry.name))
              }}
            >
              {entry.emoji}
            </button>
          ))}
        </div>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </li>
  )
}

export function PendingItem({ roomId, line }: { roomId: string; line: PendingLine }) {
  const chat = useChat()
  const failed = line.status === 'failed'
  return (
    <li class={`message mine pending${failed ? ' failed' : ''}`} data-pending={line.status}>
      <div class="message-head">
        <span class="sender">{chat.me?.display_name}</span>
        <span class="muted">{failed ? `Not sent${line.error ? `: ${line.error}` : ''}` : 'Sending…'}</span>
      </div>
      <p class="message-text">{line.text}</p>
      {failed && (
        <div class="message-actions">
          <button type="button" class="primary" onClick={() => chat.retry(roomId, line.clientMsgId)}>
            Retry
          </button>
          <button type="button" class="quiet" onClick={() => chat.discard(roomId, line.clientMsgId)}>
            Discard
          </button>
        </div>
      )}
    </li>
  )
}
