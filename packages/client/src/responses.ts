import type { ProblemDetails } from '@chat/contracts'
import { ChatApiError, ChatNetworkError } from './errors.js'

// How answers are read: JSON bodies, and failures as ChatApiError.

export async function readJson<T>(response: Response): Promise<T> {
  try {
    return (await response.json()) as T
  } catch (error) {
    throw new ChatNetworkError(`unreadable JSON answer (${response.status})`, { cause: error })
  }
}

/** The problem details of a failed answer (whatever its body) as a ChatApiError. */
export async function toError(response: Response): Promise<ChatApiError> {
  let problem: ProblemDetails | undefined
  try {
    const text = await response.text()
    if (/json/i.test(response.headers.get('content-type') ?? '')) {
      const parsed: unknown = JSON.parse(text)
      if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { code?: unknown }).code === 'string') problem = parsed as ProblemDetails
    }
  } catch {
    // Not problem details: the status alone speaks.
  }
  return new ChatApiError(response.status, problem, retryAfterSeconds(response.headers.get('retry-after')), response.statusText)
}

/** `Retry-After` as seconds: either delay-seconds or an HTTP date. */
export function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined
  if (/^\s*\d+\s*$/.test(value)) return Number(value)
  const date = Date.parse(value)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, Math.ceil((date - Date.now()) / 1000))
}
