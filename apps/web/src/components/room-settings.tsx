import type { Room } from '@chat/client'
import { useState } from 'preact/hooks'
import { useChat } from '../chat.js'
import { isOwner } from '../state/roles.js'

/** Renaming (owner and admins: the caller shows it only to them) and the owner's "members can add people". */
export function RoomSettings({ room, busy, run }: { room: Room; busy: boolean; run: (action: () => Promise<void>) => void }) {
  const chat = useChat()
  const [name, setName] = useState(room.name)
  // The switch shows what was asked for until the server answers (then the room says).
  const [asked, setAsked] = useState<boolean | null>(null)
  const owner = isOwner(room, chat.me?.id)
  const trimmed = name.trim()

  return (
    <section aria-labelledby="settings-title">
      <h3 id="settings-title">Room settings</h3>
      <form
        onSubmit={(event) => {
          event.preventDefault()
          run(() => chat.renameRoom(room.id, trimmed))
        }}
      >
        <label for="rename-room">Rename the room</label>
        <input id="rename-room" type="text" maxLength={100} value={name} onInput={(event) => setName(event.currentTarget.value)} />
        <button type="submit" disabled={busy || trimmed === '' || trimmed === room.name}>
          Rename
        </button>
      </form>
      {owner && (
        <label class="check-row">
          <input
            type="checkbox"
            checked={asked ?? room.members_can_add}
            disabled={busy}
            onChange={(event) => {
              const next = event.currentTarget.checked
              setAsked(next)
              run(() => chat.setMembersCanAdd(room.id, next).finally(() => setAsked(null)))
            }}
          />
          Members can add others
        </label>
      )}
    </section>
  )
}
