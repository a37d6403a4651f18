import { Type, type Static } from 'typebox'
import { commonConfig, databaseConfig, natsConfig, tokenVerifyConfig } from '@chat/service-kit'

/** Settings of the gateway's sockets; the standalone process reads the same variables. */
export const realtimeSocketConfig = {
  RATE_LIMIT_WS_FPS: Type.Integer({
    minimum: 0,
    default: 20,
    description: 'client frames per second per socket, bursts of RATE_LIMIT_WS_BURST; over it the socket is closed with 4429; 0 turns it off'
  }),
  RATE_LIMIT_WS_BURST: Type.Integer({ minimum: 1, default: 50, description: 'client frames a socket may send at once' }),
  WS_MAX_FRAME_BYTES: Type.Integer({ minimum: 1024, maximum: 1024 * 1024, default: 64 * 1024, description: 'largest client frame; a larger one closes the socket with 1009' }),
  WS_SEND_QUEUE_BYTES: Type.Integer({
    minimum: 16 * 1024,
    default: 1024 * 1024,
    description: 'bytes a socket may have waiting to be sent; past it the socket is closed with 4408 and the client resumes'
  }),
  WS_HEARTBEAT_MS: Type.Integer({ minimum: 1000, default: 15_000, description: 'ping interval; a peer that misses two is dropped' }),
  WS_MAX_REPLAY_EVENTS: Type.Integer({
    minimum: 1,
    default: 10_000,
    description: 'most events a resume replays; a resume point further behind gets resync_required'
  }),
  PRESENCE_TTL_MS: Type.Integer({
    minimum: 1000,
    maximum: 600_000,
    default: 25_000,
    description: 'a gateway refreshes its users\' presence every third of this; a gateway that stops (killed) lets its users go offline after it'
  }),
  PRESENCE_DEBOUNCE_MS: Type.Integer({
    minimum: 0,
    maximum: 600_000,
    default: 10_000,
    description: 'a user whose last socket closed goes offline this long after, unless a socket of theirs reopened (a reconnect is no change)'
  }),
  EVENT_RETENTION_DAYS: Type.Integer({
    minimum: 0,
    default: 30,
    description: 'room events older than this are pruned (the newest event of each room is kept); resuming from before the kept history gets resync_required; 0 keeps everything'
  })
}

export const RealtimeConfig = Type.Object({
  ...commonConfig,
  ...databaseConfig,
  ...natsConfig,
  ...tokenVerifyConfig,
  ...realtimeSocketConfig,
  PORT: Type.Integer({ minimum: 0, maximum: 65_535, default: 3005 })
})
export type RealtimeConfig = Static<typeof RealtimeConfig>
