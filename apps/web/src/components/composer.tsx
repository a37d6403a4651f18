import { useState } from 'preact/hooks'
import { useChat } from '../chat.js'

/** The message box of a room, or of a thread when `replyTo` names its root. */
export function Composer({ roomId, replyTo }: { roomId: string; replyTo?: string }) {
  const chat = useChat()
  const [text, setText] = useState('')
  const id = replyTo === undefined ? 'composer-text' : `reply-text-${replyTo}`

  function send() {
    if (text.trim() === '') return
    chat.send(roomId, text, replyTo)
    setText('')
  }

  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault()
        send()
      }}
    >
      <label for={id} class="visually-hidden">
        {replyTo === undefined ? 'Message' : 'Reply'}
      </label>
      <textarea
        id={id}
        rows={1}
        maxLength={4000}
        placeholder={replyTo === undefined ? 'Write a message' : 'Reply in the thread'}
        value={text}
        onInput={(event) => {
          setText(event.currentTarget.value)
          chat.typing(roomId)
        }}
        onKeyDown={(event) => {
          // Enter sends, Shift+Enter starts a new line.
          if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault()
            send()
          }
        }}
      />
      <button type="submit" class="primary" disabled={text.trim() === ''}>
        {replyTo === undefined ? 'Send' : 'Reply'}
      </button>
    </form>
  )
}
