export type {
  BusLogger,
  BusMessage,
  BusStats,
  BusSubscription,
  EventBus,
  HandlerErrorContext,
  HandlerErrorListener,
  MessageHandler,
  PublishOptions,
  PublishResult,
  RequestHandler,
  RequestOptions,
  SubscribeOptions
} from './port.js'
export { DEFAULT_DUPLICATE_WINDOW_MS, DEFAULT_REQUEST_TIMEOUT_MS, MSG_ID_HEADER } from './port.js'
export { BusClosedError, BusError, InvalidSubjectError, NoRespondersError, PublishRefusedError, RequestTimeoutError } from './errors.js'
export type { BusErrorCode } from './errors.js'
export { assertPublishSubject, assertSubscribePattern, subjectMatches } from './subject-match.js'
export { createInProcessBus } from './in-process-bus.js'
export type { InProcessBusOptions } from './in-process-bus.js'
export { connectNatsBus } from './nats-bus.js'
export type { NatsBus, NatsBusOptions } from './nats-bus.js'
export type { StreamLimits } from './nats-stream.js'
