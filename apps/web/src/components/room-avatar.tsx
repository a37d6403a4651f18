import type { Room } from '@chat/client'
import { useChat } from '../chat.js'
import { useStore } from '../store.js'

/** The room's image, or its initials when it has none. */
export function RoomAvatar({ room, size = 40 }: { room: Room; size?: number }) {
  const chat = useChat()
  const { avatars } = useStore(chat.store)
  const url = avatars[room.id]
  const style = { width: `${size}px`, height: `${size}px` }
  if (url) return <img class="avatar" src={url} alt="" style={style} data-avatar="image" />
  const initials = room.name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => [...word][0] ?? '')
    .join('')
    .toUpperCase()
  return (
    <span class="avatar avatar-initials" style={style} aria-hidden="true" data-avatar="initials">
      {initials || '#'}
    </span>
  )
}
