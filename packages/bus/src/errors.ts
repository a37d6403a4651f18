export type BusErrorCode = 'bus_no_responders' | 'bus_timeout' | 'bus_closed' | 'bus_invalid_subject' | 'bus_publish_refused'

/** Base class of the errors both adapters throw, so callers can switch on `code`. */
export class BusError extends Error {
  readonly code: BusErrorCode

  constructor(code: BusErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** Nobody subscribes to the request subject. Raised at once, without waiting for the timeout. */
export class NoRespondersError extends BusError {
  declare readonly code: 'bus_no_responders'
  readonly subject: string

  constructor(subject: string, options?: ErrorOptions) {
    super('bus_no_responders', `no responders for ${subject}`, options)
    this.subject = subject
  }
}

/** A request (or a ping) got no answer in time. */
export class RequestTimeoutError extends BusError {
  declare readonly code: 'bus_timeout'
  readonly subject: string
  readonly timeoutMs: number

  constructor(subject: string, timeoutMs: number, options?: ErrorOptions) {
    super('bus_timeout', `no reply on ${subject} within ${timeoutMs} ms`, options)
    this.subject = subject
    this.timeoutMs = timeoutMs
  }
}

/** The bus was closed or is draining. */
export class BusClosedError extends BusError {
  declare readonly code: 'bus_closed'

  constructor(message = 'bus is closed', options?: ErrorOptions) {
    super('bus_closed', message, options)
  }
}

/** The server refused a publish of this connection (NATS permissions): `flush()` cannot confirm what was published. */
export class PublishRefusedError extends BusError {
  declare readonly code: 'bus_publish_refused'
  readonly subject: string

  constructor(subject: string, options?: ErrorOptions) {
    super('bus_publish_refused', `the server refused a publish to ${subject}`, options)
    this.subject = subject
  }
}

/** Empty tokens, whitespace, or wildcards where a concrete subject is needed. */
export class InvalidSubjectError extends BusError {
  declare readonly code: 'bus_invalid_subject'
  readonly subject: string

  constructor(subject: string, reason: string) {
    super('bus_invalid_subject', `invalid subject ${JSON.stringify(subject)}: ${reason}`)
    this.subject = subject
  }
}
