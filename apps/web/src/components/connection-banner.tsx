import { useChat } from '../chat.js'
import { useStore } from '../store.js'

const labels: Record<string, string> = {
  idle: '',
  connecting: 'Connecting…',
  open: 'Online',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected'
}

export function ConnectionBanner() {
  const chat = useChat()
  const { connection } = useStore(chat.store)
  return (
    <span class={`connection connection-${connection}`} role="status" aria-live="polite" data-connection={connection}>
      {labels[connection]}
    </span>
  )
}
