// Between the port's shapes and nats.js's: headers, received messages and errors.
import { ClosedConnectionError, DrainingConnectionError, RequestError, TimeoutError, headers as natsHeaders, type Msg, type MsgHdrs } from '@nats-io/nats-core'
import { BusClosedError, NoRespondersError, RequestTimeoutError } from './errors.js'
import type { BusMessage } from './port.js'

export function toNatsHeaders(values: Record<string, string> | undefined): MsgHdrs | undefined {
  if (!values) return undefined
  const entries = Object.entries(values)
  if (entries.length === 0) return undefined
  // A fresh object each time: js.publish() adds Nats-Msg-Id to the one it is given.
  const headers = natsHeaders()
  for (const [name, value] of entries) headers.set(name, value)
  return headers
}

export function toBusMessage(msg: Msg): BusMessage {
  const headers = msg.headers
  return {
    subject: msg.subject,
    data: msg.data,
    // MsgHdrs.get() returns '' for a missing header; the port says undefined.
    header: (name) => (headers?.has(name) ? headers.get(name) : undefined)
  }
}

export function mapError(error: unknown, subject: string, timeoutMs: number): unknown {
  if (error instanceof ClosedConnectionError || error instanceof DrainingConnectionError) {
    return new BusClosedError(undefined, { cause: error })
  }
  if (error instanceof RequestError && error.isNoResponders()) return new NoRespondersError(subject, { cause: error })
  if (error instanceof TimeoutError) return new RequestTimeoutError(subject, timeoutMs, { cause: error })
  return error
}
