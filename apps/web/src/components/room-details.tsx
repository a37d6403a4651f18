import type { Room } from '@chat/client'
import { useState } from 'preact/hooks'
import { describeError, useChat } from '../chat.js'
import { canAddPeople, canManageRoom } from '../state/roles.js'
import { ParticipantList } from './participant-list.js'
import { ParticipantPicker } from './participant-picker.js'
import { RoomAvatar } from './room-avatar.js'
import { RoomSettings } from './room-settings.js'

export function RoomDetails({ room }: { room: Room }) {
  const chat = useChat()
  const [adding, setAdding] = useState<string[]>([])
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const meId = chat.me?.id
  // Controls follow the caller's role as it is now: a role change arrives live.
  const manages = canManageRoom(room, meId)

  async function run(action: () => Promise<void>) {
    setBusy(true)
    setError(null)
    try {
      await action()
    } catch (failure) {
      setError(describeError(failure))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div id="room-details" class="card room-details">
      <section aria-labelledby="people-title">
        <h3 id="people-title">Participants</h3>
        <ParticipantList room={room} busy={busy} run={(action) => void run(action)} />
        {/* A direct room keeps its two participants, its name and no image: the server refuses the rest. */}
        {canAddPeople(room, meId) && (
        <form
          onSubmit={(event) => {
            event.preventDefault()
            void run(async () => {
              await chat.addUsers(room.id, adding)
              setAdding([])
            })
          }}
        >
          <ParticipantPicker
            id="add-people"
            label="Add people"
            selected={adding}
            exclude={room.participants.map((participant) => participant.display_name)}
            onChange={setAdding}
          />
          <button type="submit" class="primary" disabled={busy || adding.length === 0}>
            Add to room
          </button>
        </form>
        )}
        {room.kind === 'group' && !canAddPeople(room, meId) && <p class="muted">Only the owner and admins add people to this room.</p>}
      </section>
      {manages && <RoomSettings key={room.name} room={room} busy={busy} run={(action) => void run(action)} />}
      {manages && (
      <section aria-labelledby="image-title">
        <h3 id="image-title">Room image</h3>
        <div class="avatar-row">
          <RoomAvatar room={room} size={64} />
          <label class="file-button">
            <span>Upload an image</span>
            <input
              type="file"
              accept="image/png,image/jpeg,image/webp,image/gif"
              aria-label="Upload a room image"
              disabled={busy}
              onChange={(event) => {
                const input = event.currentTarget
                const file = input.files?.[0]
                if (!file) return
                void run(() => chat.uploadAvatar(room.id, file, file.name)).finally(() => {
                  input.value = ''
                })
              }}
            />
          </label>
          {room.avatar_url && (
            <button type="button" disabled={busy} onClick={() => void run(() => chat.removeAvatar(room.id))}>
              Remove image
            </button>
          )}
        </div>
      </section>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {room.kind === 'group' && (
        <button type="button" class="danger" disabled={busy} onClick={() => void run(() => chat.leave(room.id))}>
          Leave room
        </button>
      )}
    </div>
  )
}
