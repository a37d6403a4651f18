import { useState } from 'preact/hooks'
import { useChat } from '../chat.js'

export function Composer({ roomId }: { roomId: string }) {
  const chat = useChat()
  const [text, setText] = useState('')

  function send() {
    if (text.trim() === '') return
    chat.send(roomId, text)
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
      <label for="composer-text" class="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-text"
        rows={1}
        maxLength={4000}
        placeholder="Write a message"
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
        Send
      </button>
    </form>
  )
}
