import type { User } from '@chat/client'

/**
 * The text with the `@name` and `@"name"` tokens of its mentions marked; the
 * server decided who is mentioned (message.mentions), this only finds where
 * they are written, case-insensitively, longest name first.
 */
export function MessageText({ text, mentions, meId }: { text: string; mentions: readonly User[]; meId: string | undefined }) {
  if (mentions.length === 0) return <>{text}</>
  const names = [...mentions].sort((a, b) => b.display_name.length - a.display_name.length)
  const lower = text.toLowerCase()
  const parts: Array<string | { text: string; me: boolean }> = []
  let plainFrom = 0
  for (let at = lower.indexOf('@'); at !== -1; at = lower.indexOf('@', at + 1)) {
    if (at < plainFrom) continue
    const hit = names.find((user) => {
      const name = user.display_name.toLowerCase()
      return lower.startsWith(`"${name}"`, at + 1) || lower.startsWith(name, at + 1)
    })
    if (!hit) continue
    const quoted = lower.startsWith(`"${hit.display_name.toLowerCase()}"`, at + 1)
    const end = at + 1 + hit.display_name.length + (quoted ? 2 : 0)
    parts.push(text.slice(plainFrom, at), { text: text.slice(at, end), me: hit.id === meId })
    plainFrom = end
  }
  parts.push(text.slice(plainFrom))
  return (
    <>
      {parts.map((part, index) =>
        typeof part === 'string' ? (
          part
        ) : (
          <mark key={index} class={`mention${part.me ? ' me' : ''}`}>
            {part.text}
          </mark>
        )
      )}
    </>
  )
}
