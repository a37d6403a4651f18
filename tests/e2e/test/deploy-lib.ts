// What the deployment tests share: the repository's services and their config
// schemas, api.md's routes, and models of how nginx and ingress-nginx pick a
// location.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { REPO_ROOT } from '../../../deploy/start-services.js'

export { REPO_ROOT }

/** The part of a TypeBox object schema the checks read. */
export interface ConfigSchema {
  properties: Record<string, { default?: unknown }>
  required?: string[]
}

export interface ServiceConfig {
  name: string
  schema: ConfigSchema
  /** Where the schema came from, and why, when it is not the package's export. */
  source: string
}

/** Folders of services/ that run as their own process (standalone is the single-process mode). */
export function serviceDirectories(): string[] {
  return readdirSync(join(REPO_ROOT, 'services'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'standalone')
    .map((entry) => entry.name)
    .sort()
}

function isSchema(value: unknown): value is ConfigSchema {
  return typeof value === 'object' && value !== null && typeof (value as ConfigSchema).properties === 'object'
}

/**
 * The config schema of a service: the package's exported `<Name>Config`
 * (from its built dist), else its built dist/config.js (a schema the package
 * does not export yet).
 */
export async function loadServiceConfig(name: string): Promise<ServiceConfig> {
  const exportName = `${name[0]!.toUpperCase()}${name.slice(1)}Config`
  const specifier = `@chat/${name}`
  try {
    const module = (await import(specifier)) as Record<string, unknown>
    const schema = module[exportName]
    if (isSchema(schema)) return { name, schema, source: `${specifier} export ${exportName}` }
  } catch {
    // not built, or no index: try the config module itself
  }
  const configFile = join(REPO_ROOT, 'services', name, 'dist', 'config.js')
  if (existsSync(configFile)) {
    const module = (await import(pathToFileURL(configFile).href)) as Record<string, unknown>
    const schema = module[exportName]
    if (isSchema(schema)) return { name, schema, source: `services/${name}/dist/config.js (${specifier} does not export ${exportName})` }
  }
  throw new Error(`no config schema for ${name}: build it (npx turbo run build --filter=@chat/${name}...)`)
}

export function defaultPort(config: ServiceConfig): number {
  const port = config.schema.properties.PORT?.default
  if (typeof port !== 'number') throw new Error(`${config.name}: PORT has no numeric default`)
  return port
}

/** Variables that stop the service when unset: required, without a default. */
export function requiredVariables(schema: ConfigSchema): string[] {
  return (schema.required ?? []).filter((name) => schema.properties[name]?.default === undefined)
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(join(REPO_ROOT, ...parts), 'utf8')
}

/** Every YAML document of a file, as plain objects. */
export function yamlDocuments(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`)
    return document.toJS({ maxAliasCount: 100 }) as Record<string, unknown>
  }).filter((document) => document !== null)
}

// ---------------------------------------------------------------------------
// api.md

export interface ApiRoute {
  method: string
  /** As written, e.g. /messages/:message_id/reaction/ */
  template: string
  service: string
}

/** The contract (docs/api.md; the project owns it). */
export const API_SPEC = process.env.API_SPEC ?? join(REPO_ROOT, 'docs', 'api.md')

const SECTION_SERVICES: Record<string, string> = {
  Identity: 'identity',
  'Chat rooms': 'rooms',
  'Direct messages': 'rooms',
  Messages: 'messages',
  Search: 'messages',
  'Reactions and emoji': 'reactions',
  'Realtime (WebSocket)': 'realtime'
}

/** The method-and-path rows of api.md's tables, and the socket paths of its Realtime section, each with the service of its section. */
export function apiRoutes(markdown: string): ApiRoute[] {
  const routes: ApiRoute[] = []
  let service: string | undefined
  for (const line of markdown.split('\n')) {
    const heading = /^## (.+?)\s*$/.exec(line)
    if (heading) {
      service = SECTION_SERVICES[heading[1]!]
      continue
    }
    if (!service) continue
    const row = /^\| (GET|POST|PUT|PATCH|DELETE) (\/\S*) \|/.exec(line)
    if (row) routes.push({ method: row[1]!, template: row[2]!, service })
    for (const socket of line.matchAll(/`GET (\/ws\/\S*)`/g)) routes.push({ method: 'GET', template: socket[1]!, service })
  }
  return routes
}

export const SAMPLE_ID = '0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'

/** The concrete paths a route answers: ids filled in, query dropped, with and without the trailing slash. */
export function samplePaths(template: string): string[] {
  const path = template.split('?')[0]!.replace(/:[a-z_]+/g, SAMPLE_ID)
  const bare = path.length > 1 ? path.replace(/\/$/, '') : path
  return [...new Set([`${bare}/`, bare])]
}

// ---------------------------------------------------------------------------
// nginx: which location serves a path

export interface NginxLocation {
  modifier: '' | '=' | '~' | '~*' | '^~'
  pattern: string
  /** The upstream of its proxy_pass, or 'static' for a location that serves files, or 'internal'. */
  target: string
  body: string
}

/** The server's locations (named ones left out), in order. */
export function nginxLocations(template: string): NginxLocation[] {
  const config = template.replace(/^\s*#.*$/gm, '')
  const locations: NginxLocation[] = []
  const opener = /location\s+(=|~\*|~|\^~)?\s*([^\s{]+)\s*\{/g
  for (let match = opener.exec(config); match; match = opener.exec(config)) {
    let depth = 1
    let index = opener.lastIndex
    while (depth > 0 && index < config.length) {
      const char = config[index++]
      if (char === '{') depth++
      else if (char === '}') depth--
      else if (char === "'") index = config.indexOf("'", index) + 1
    }
    const body = config.slice(opener.lastIndex, index - 1)
    const pattern = match[2]!
    if (pattern.startsWith('@')) continue
    const proxy = /proxy_pass\s+https?:\/\/([A-Za-z0-9_.-]+)/.exec(body)
    const target = proxy ? proxy[1]! : /\b(root|try_files)\b/.test(body) ? 'static' : 'internal'
    locations.push({ modifier: (match[1] ?? '') as NginxLocation['modifier'], pattern, target, body })
  }
  return locations
}

/** nginx's choice: an exact match; else the longest prefix if ^~; else the first matching regex; else the longest prefix. */
export function nginxRoute(locations: readonly NginxLocation[], path: string): NginxLocation | undefined {
  const exact = locations.find((location) => location.modifier === '=' && location.pattern === path)
  if (exact) return exact
  const prefix = locations
    .filter((location) => (location.modifier === '' || location.modifier === '^~') && path.startsWith(location.pattern))
    .sort((a, b) => b.pattern.length - a.pattern.length)[0]
  if (prefix?.modifier === '^~') return prefix
  const regex = locations.find(
    (location) => (location.modifier === '~' || location.modifier === '~*') && new RegExp(location.pattern, location.modifier === '~*' ? 'i' : '').test(path)
  )
  return regex ?? prefix
}

// ---------------------------------------------------------------------------
// ingress-nginx: which backend serves a path

export interface IngressPath {
  ingress: string
  path: string
  service: string
  port: number
  annotations: Record<string, string>
}

export function ingressPaths(documents: readonly Record<string, unknown>[]): IngressPath[] {
  const paths: IngressPath[] = []
  for (const document of documents) {
    if (document.kind !== 'Ingress') continue
    const metadata = document.metadata as { name: string; annotations?: Record<string, string> }
    const spec = document.spec as { rules: { http: { paths: { path: string; backend: { service: { name: string; port: { number: number } } } }[] } }[] }
    for (const rule of spec.rules) {
      for (const entry of rule.http.paths) {
        paths.push({ ingress: metadata.name, path: entry.path, service: entry.backend.service.name, port: entry.backend.service.port.number, annotations: metadata.annotations ?? {} })
      }
    }
  }
  return paths
}

/**
 * ingress-nginx with use-regex: each path becomes `location ~* "^<path>"`,
 * tried longest path first; the first match serves.
 */
export function ingressRoute(paths: readonly IngressPath[], path: string): IngressPath | undefined {
  return [...paths].sort((a, b) => b.path.length - a.path.length).find((entry) => new RegExp(`^${entry.path}`, 'i').test(path))
}
