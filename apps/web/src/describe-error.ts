import { ChatApiError, ChatNetworkError, ChatSocketError } from '@chat/client'

/** A human sentence for a failed call. */
export function describeError(error: unknown): string {
  if (error instanceof ChatApiError) {
    if (error.code === 'users_not_found' && error.notFound) return `Unknown users: ${error.notFound.join(', ')}`
    if (error.status === 429) return `Too many requests, try again in ${error.retryAfter ?? 1} s`
    return error.detail || error.title || error.code
  }
  if (error instanceof ChatNetworkError) return 'The server cannot be reached'
  if (error instanceof ChatSocketError) return error.code === 'closed' ? 'the connection was lost' : error.detail || error.code
  return error instanceof Error ? error.message : String(error)
}
