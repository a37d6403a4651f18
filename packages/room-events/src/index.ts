export { appendRoomEvent, recordRoomEvent, takeRoomSeq, type RoomEventData, type StoredRoomEvent } from './append.js'
export { createRoomEventPublisher, markPublished, publishStoredEvent, type EventsLogger, type RoomEventPublisher } from './publish.js'
export { startRoomEventRelay, type RelayOptions, type RoomEventRelay } from './relay.js'
export { uuidv7 } from './uuidv7.js'
