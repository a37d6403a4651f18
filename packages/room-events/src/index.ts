export { appendRoomEvent, type RoomEventData, type StoredRoomEvent } from './append.js'
export {
  appRoomEventPublisher,
  createRoomEventPublisher,
  markPublished,
  publishStoredEvent,
  type EventsLogger,
  type PublishableEvent,
  type PublisherHost,
  type RoomEventPublisher
} from './publish.js'
export { createEventTracing, type EventTracing } from './event-tracing.js'
export { startRoomEventRelay, type RelayOptions, type RelayStats, type RoomEventRelay } from './relay.js'
export { uuidv7 } from './uuidv7.js'
export { findRoomAccess, requireParticipant, type RoomAccess } from './access.js'
export { readOutboxState, registerOutboxMetrics, registerRelayMetrics, type OutboxState } from './outbox-metrics.js'
