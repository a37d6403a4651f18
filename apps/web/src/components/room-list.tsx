import { useState } from 'preact/hooks'
import { useChat } from '../chat.js'
import { useStore } from '../store.js'
import { CreateRoom } from './create-room.js'
import { RoomAvatar } from './room-avatar.js'
import { SearchBox } from './search-box.js'
import { StartDirect } from './start-direct.js'

export function RoomList() {
  const chat = useChat()
  const state = useStore(chat.store)
  const [creating, setCreating] = useState<'room' | 'direct' | null>(null)

  return (
    <section class="room-list" aria-labelledby="rooms-title">
      <div class="pane-header">
        <h2 id="rooms-title">Rooms</h2>
        <button type="button" aria-expanded={creating === 'direct'} onClick={() => setCreating(creating === 'direct' ? null : 'direct')}>
          {creating === 'direct' ? 'Cancel' : 'New message'}
        </button>
        <button type="button" class="primary" aria-expanded={creating === 'room'} onClick={() => setCreating(creating === 'room' ? null : 'room')}>
          {creating === 'room' ? 'Cancel' : 'New room'}
        </button>
      </div>
      {creating === 'room' && <CreateRoom onDone={() => setCreating(null)} />}
      {creating === 'direct' && <StartDirect onDone={() => setCreating(null)} />}
      <SearchBox />
      {state.roomsLoaded && state.rooms.length === 0 && <p class="empty-hint">No rooms yet.</p>}
      <ul class="rooms">
        {state.rooms.map((room) => {
          const unread = room.unread_count
          const mentions = room.unread_mentions
          const selected = room.id === state.selectedRoomId
          const label = `${room.name}${unread > 0 ? `, ${unread} unread` : ''}${mentions > 0 ? `, ${mentions} mentioning you` : ''}`
          return (
            <li key={room.id}>
              <button
                type="button"
                class={`room-item${selected ? ' selected' : ''}`}
                aria-current={selected ? 'true' : undefined}
                aria-label={label}
                data-room-name={room.name}
                data-room-kind={room.kind}
                onClick={() => chat.selectRoom(room.id)}
              >
                <RoomAvatar room={room} />
                <span class="room-item-text">
                  <span class="room-name">{room.name}</span>
                  <span class="room-meta">{room.kind === 'direct' ? 'Direct message' : `${room.participants.length} participants`}</span>
                </span>
                {mentions > 0 && (
                  <span class="badge mention-badge" aria-hidden="true" data-unread-mentions={mentions}>
                    @{mentions}
                  </span>
                )}
                {unread > 0 && (
                  <span class="badge" aria-hidden="true" data-unread={unread}>
                    {unread}
                  </span>
                )}
              </button>
            </li>
          )
        })}
      </ul>
    </section>
  )
}
