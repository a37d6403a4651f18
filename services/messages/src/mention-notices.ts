import type { EventBus } from '@chat/bus'
import { subjects, type Message } from '@chat/contracts'

export interface MentionNoticesLogger {
  debug(object: Record<string, unknown>, message: string): void
}

/** Tells users they were mentioned: the `mention` frame for their `/ws/` sockets. */
export type MentionNotifier = (message: Message, userIds: readonly string[]) => void

/**
 * Publishes `{"type":"mention","room_id","message"}` on core NATS, one
 * subject per user (`chat.user.<id>.mention`), after the commit that stored
 * the mention. A notice is a nudge, like typing: one lost with the bus is not
 * re-sent, the mention itself is stored (in the message, and in the room's
 * `unread_mentions`).
 */
export function createMentionNotifier(bus: EventBus, logger: MentionNoticesLogger): MentionNotifier {
  return (message, userIds) => {
    if (userIds.length === 0) return
    // Every reader gets the same bytes: my_reaction is per reader, so null.
    const bytes = Buffer.from(JSON.stringify({ type: 'mention', room_id: message.room_id, message: { ...message, my_reaction: null } }))
    for (const userId of userIds) {
      bus.publish(subjects.userMention(userId), bytes).catch((error: unknown) =>
        logger.debug({ err: error, room_id: message.room_id, message_id: message.id }, 'mention notice not published')
      )
    }
  }
}
