// Renders deploy/nginx/nginx.conf.template: used by the services-mode
// launcher, by the tests, and by hand:
//
//   node --import tsx deploy/nginx/render.ts --out /tmp/gw \
//     --listen 8080 --identity 127.0.0.1:3001 --realtime 127.0.0.1:3005,127.0.0.1:3006 ...
//
// writes /tmp/gw/nginx.conf (and its temp folder) and prints the command that runs it.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

export const NGINX_TEMPLATE = fileURLToPath(new URL('./nginx.conf.template', import.meta.url))
/** The njs handlers of the gateway (/readyz, /docs/json). */
export const GATEWAY_JS = fileURLToPath(new URL('./gateway.js', import.meta.url))
/** Where Debian (libnginx-mod-http-js) and the official nginx image keep njs. */
export const DEFAULT_NJS_MODULE = '/usr/lib/nginx/modules/ngx_http_js_module.so'

/** The njs module: NGINX_NJS_MODULE, else the usual place; undefined when it is not installed. */
export function findNjsModule(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return [env.NGINX_NJS_MODULE, DEFAULT_NJS_MODULE, '/etc/nginx/modules/ngx_http_js_module.so'].find(
    (candidate): candidate is string => candidate !== undefined && candidate !== '' && existsSync(candidate)
  )
}

/** The upstream groups of the template, each with the services that serve it. */
export const GATEWAY_UPSTREAMS = ['identity', 'rooms', 'messages', 'reactions', 'realtime'] as const
export type GatewayUpstream = (typeof GATEWAY_UPSTREAMS)[number]

export interface NginxRenderOptions {
  /** Port, or address:port, to listen on. */
  listen: number | string
  /** `host:port` addresses per upstream group; a group left empty gets a placeholder that always fails (502). */
  upstreams: Partial<Record<GatewayUpstream, readonly string[]>>
  /** Folder of the web app; it may be missing (then `/` answers a 404 problem). */
  staticRoot: string
  /** Writable folder for temp files, the pid file and (unless given) the logs. */
  workDir: string
  errorLog?: string
  accessLog?: string
  /** client_max_body_size of the JSON routes (default 128k: twice the services' 64 KiB default). */
  jsonBodyMax?: string
  /** client_max_body_size of the avatar upload (default 5184k: 5 MiB plus 64 KiB of multipart envelope). */
  avatarBodyMax?: string
  workerProcesses?: number | 'auto'
  /** Path of ngx_http_js_module.so (default: found with findNjsModule). */
  njsModule?: string
}

export const DEFAULT_JSON_BODY_MAX = '128k'
export const DEFAULT_AVATAR_BODY_MAX = '5184k'
// Nothing listens on port 9 (discard) of the loopback: a group without servers answers 502.
const UNAVAILABLE_SERVER = 'server 127.0.0.1:9 down;'

/** The ${NAME} placeholders of a template, in order of first appearance. */
export function templatePlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((match) => match[1]!))]
}

/** Fills every ${NAME} placeholder; a placeholder without a value is an error, never left in. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const missing = templatePlaceholders(template).filter((name) => values[name] === undefined)
  if (missing.length > 0) throw new Error(`nginx template: no value for ${missing.join(', ')}`)
  return template.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_, name: string) => values[name]!)
}

/**
 * Each group's failure policy (see the template's upstream comment): the
 * realtime group never marks a server down, the HTTP groups for 5 s.
 */
export const SERVER_PARAMETERS: Record<GatewayUpstream, string> = {
  identity: 'max_fails=1 fail_timeout=5s',
  rooms: 'max_fails=1 fail_timeout=5s',
  messages: 'max_fails=1 fail_timeout=5s',
  reactions: 'max_fails=1 fail_timeout=5s',
  realtime: 'max_fails=0'
}

export function serverLines(group: GatewayUpstream, addresses: readonly string[] | undefined): string {
  if (!addresses || addresses.length === 0) return UNAVAILABLE_SERVER
  return addresses.map((address) => `server ${address} ${SERVER_PARAMETERS[group]};`).join(' ')
}

/** The placeholder values for `options`. */
export function templateValues(options: NginxRenderOptions): Record<string, string> {
  const workDir = resolve(options.workDir)
  const values: Record<string, string> = {
    GATEWAY_LISTEN: String(options.listen),
    STATIC_ROOT: resolve(options.staticRoot),
    TEMP_DIR: join(workDir, 'temp'),
    PID_FILE: join(workDir, 'nginx.pid'),
    ERROR_LOG: options.errorLog ?? 'stderr',
    ACCESS_LOG: options.accessLog ?? join(workDir, 'access.log'),
    JSON_BODY_MAX: options.jsonBodyMax ?? DEFAULT_JSON_BODY_MAX,
    AVATAR_BODY_MAX: options.avatarBodyMax ?? DEFAULT_AVATAR_BODY_MAX,
    WORKER_PROCESSES: String(options.workerProcesses ?? 'auto'),
    // Addresses here are literal: nothing to resolve while running.
    RESOLVER: '# no resolver: upstream addresses are literal',
    NJS_MODULE: options.njsModule ?? findNjsModule() ?? DEFAULT_NJS_MODULE,
    GATEWAY_JS: GATEWAY_JS
  }
  for (const group of GATEWAY_UPSTREAMS) values[`${group.toUpperCase()}_SERVERS`] = serverLines(group, options.upstreams[group])
  return values
}

export function renderNginxConfig(options: NginxRenderOptions, template = readFileSync(NGINX_TEMPLATE, 'utf8')): string {
  return fillTemplate(template, templateValues(options))
}

/**
 * Writes `<workDir>/nginx.conf` and creates its temp folder; returns the
 * config path and the arguments that run it in the foreground.
 */
export function writeNginxConfig(options: NginxRenderOptions): { configPath: string; args: string[] } {
  const workDir = resolve(options.workDir)
  mkdirSync(join(workDir, 'temp'), { recursive: true })
  // A master started as root runs its workers as `nobody`: they must reach the
  // temp folders (which nginx creates and hands to them) through this one.
  chmodSync(workDir, 0o755)
  const configPath = join(workDir, 'nginx.conf')
  writeFileSync(configPath, renderNginxConfig(options))
  return { configPath, args: nginxArgs(workDir, configPath) }
}

/** Arguments for running a rendered config unprivileged, in the foreground, logging to stderr until the config is read. */
export function nginxArgs(workDir: string, configPath: string): string[] {
  return ['-p', `${resolve(workDir)}/`, '-c', configPath, '-e', 'stderr', '-g', 'daemon off;']
}

/** What the gateway needs and this machine lacks (nginx, its njs module), or undefined when nothing is missing. */
export function gatewayMissing(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!findNginx(env)) return 'nginx (NGINX_BIN, /usr/sbin/nginx, the PATH)'
  if (!findNjsModule(env)) return "nginx's njs module (Debian: libnginx-mod-http-js; NGINX_NJS_MODULE)"
  return undefined
}

/** The nginx binary: NGINX_BIN, /usr/sbin/nginx, or `nginx` on the PATH; undefined when none. */
export function findNginx(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.NGINX_BIN, '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']
  for (const dir of (env.PATH ?? '').split(':')) if (dir) candidates.push(join(dir, 'nginx'))
  return candidates.find((candidate): candidate is string => candidate !== undefined && candidate !== '' && existsSync(candidate))
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      listen: { type: 'string', default: '8080' },
      static: { type: 'string', default: fileURLToPath(new URL('../../apps/web/dist', import.meta.url)) },
      identity: { type: 'string', default: '127.0.0.1:3001' },
      rooms: { type: 'string', default: '127.0.0.1:3002' },
      messages: { type: 'string', default: '127.0.0.1:3003' },
      reactions: { type: 'string', default: '127.0.0.1:3004' },
      realtime: { type: 'string', default: '127.0.0.1:3005,127.0.0.1:3006' }
    }
  })
  if (!values.out) {
    process.stderr.write('usage: render.ts --out <dir> [--listen 8080] [--static <dir>] [--identity host:port,...] [--rooms ...] [--messages ...] [--reactions ...] [--realtime ...]\n')
    process.exit(2)
  }
  const list = (value: string): string[] => value.split(',').map((entry) => entry.trim()).filter(Boolean)
  const { configPath, args } = writeNginxConfig({
    listen: values.listen,
    staticRoot: values.static,
    workDir: values.out,
    upstreams: {
      identity: list(values.identity),
      rooms: list(values.rooms),
      messages: list(values.messages),
      reactions: list(values.reactions),
      realtime: list(values.realtime)
    }
  })
  process.stdout.write(`wrote ${configPath}\nrun: nginx ${args.map((arg) => (/[\s;]/.test(arg) ? `'${arg}'` : arg)).join(' ')}\n`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2))
