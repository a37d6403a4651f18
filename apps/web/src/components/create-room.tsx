import { useState } from 'preact/hooks'
import { describeError, useChat } from '../chat.js'
import { ParticipantPicker } from './participant-picker.js'

export function CreateRoom({ onDone }: { onDone: () => void }) {
  const chat = useChat()
  const [name, setName] = useState('')
  const [participants, setParticipants] = useState<string[]>([])
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit(event: Event) {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await chat.createRoom(name.trim(), participants)
      onDone()
    } catch (failure) {
      setError(describeError(failure))
      setBusy(false)
    }
  }

  return (
    <form class="card create-room" onSubmit={(event) => void submit(event)} aria-label="New room">
      <label for="new-room-name">Room name</label>
      <input id="new-room-name" required maxLength={100} value={name} onInput={(event) => setName(event.currentTarget.value)} />
      <ParticipantPicker
        id="new-room-people"
        label="Participants"
        selected={participants}
        exclude={chat.me ? [chat.me.display_name] : []}
        onChange={setParticipants}
      />
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy || name.trim() === ''}>
        Create room
      </button>
    </form>
  )
}
