import { useState } from 'preact/hooks'
import { describeError, useChat } from '../chat.js'
import { ParticipantPicker } from './participant-picker.js'

/** Starts (or reopens) a direct conversation with the user picked by name. */
export function StartDirect({ onDone }: { onDone: () => void }) {
  const chat = useChat()
  const [error, setError] = useState<string | null>(null)

  return (
    <div class="card create-room" role="group" aria-label="New direct message">
      <ParticipantPicker
        id="direct-person"
        label="Message someone"
        selected={[]}
        exclude={chat.me ? [chat.me.display_name] : []}
        onChange={(names) => {
          const name = names.at(-1)
          if (name === undefined) return
          setError(null)
          chat.openDirect(name).then(onDone, (failure: unknown) => setError(describeError(failure)))
        }}
      />
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
