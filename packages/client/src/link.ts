/** One link of an RFC 8288 `Link` header: its URL and its parameters (`rel` lower-cased). */
export interface LinkValue {
  url: string
  params: Record<string, string>
}

/**
 * Parses a `Link` header into links by `rel`. Quoted parameter values may
 * hold commas and semicolons.
 *
 * @example
 * parseLinkHeader('</m/?after_seq=9>; rel="next"').next?.url // '/m/?after_seq=9'
 */
export function parseLinkHeader(header: string | null | undefined): Record<string, LinkValue> {
  const links: Record<string, LinkValue> = {}
  if (!header) return links
  const pattern = /<([^>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)/g
  for (const match of header.matchAll(pattern)) {
    const url = match[1] ?? ''
    const params: Record<string, string> = {}
    const paramPattern = /;\s*([^;,=\s]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,\s]*)))?/g
    for (const param of (match[2] ?? '').matchAll(paramPattern)) {
      const name = (param[1] ?? '').toLowerCase()
      const value = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '')
      params[name] = value
    }
    // rel may list several relation types separated by spaces.
    for (const rel of (params.rel ?? '').toLowerCase().split(/\s+/)) {
      if (rel && !(rel in links)) links[rel] = { url, params }
    }
  }
  return links
}

/** A query parameter of a link's (possibly relative) URL. */
export function linkQueryParam(link: LinkValue | undefined, name: string): string | undefined {
  if (!link) return undefined
  return new URL(link.url, 'http://link.invalid/').searchParams.get(name) ?? undefined
}
