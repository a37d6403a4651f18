import { useChat } from '../chat.js'
import { useStore } from '../store.js'

export function NoticeBar() {
  const chat = useChat()
  const { notice } = useStore(chat.store)
  if (!notice) return null
  return (
    <div class="notice" role="alert">
      <span>{notice}</span>
      <button type="button" class="link-button" aria-label="Dismiss the notice" onClick={() => chat.dismissNotice()}>
        Dismiss
      </button>
    </div>
  )
}
