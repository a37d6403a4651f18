// Which NATS `npm run start:services` gives its services, and with which
// credentials. Without NATS_URL it runs a nats-server of its own with the
// shipped permissions (deploy/nats/permissions.conf), so that the services
// mode on a laptop runs with the same rights as compose and Kubernetes.
import { join } from 'node:path'
import { freePort, reachable, startNatsServer, type NatsServerProcess } from '@chat/process-kit'
import { NATS_USER_NAMES, PERMISSIONS_CONF, launcherNatsPasswords, natsPasswordVariable, natsServerEnv, type NatsUser } from './permissions.js'

export interface LauncherNats {
  url: string
  /** The password of each user the services connect as; empty for a server without authorization. */
  passwords: Partial<Record<NatsUser, string>>
  /** The launcher's own nats-server, or null when it uses NATS_URL's. */
  server: NatsServerProcess | null
}

export interface LauncherNatsOptions {
  /** A running server (option or NATS_URL); without it the launcher starts its own. */
  url: string | undefined
  /** Passwords for `url`'s users; default: NATS_PASSWORD_<USER> of the environment. */
  passwords: Partial<Record<NatsUser, string>> | undefined
  /** Where the own server keeps its store (`nats/`) and the generated passwords. */
  dataDir: string
  env: NodeJS.ProcessEnv
  log: (line: string) => void
}

/**
 * With a URL: that server, checked to be reachable (nats:// only; tls:// and
 * ws:// are left to the services), with the passwords given, none for a plain
 * `nats-server -js`. Without: a nats-server of the launcher's own on the first
 * free port from 4222, JetStream in `<dataDir>/nats`, passwords generated
 * once into `<dataDir>/nats-passwords.json`.
 */
export async function launcherNats(options: LauncherNatsOptions): Promise<LauncherNats> {
  if (options.url !== undefined) {
    await checkReachable(options.url)
    const passwords = options.passwords ?? passwordsFromEnv(options.env)
    return { url: options.url, passwords, server: null }
  }
  const passwords = launcherNatsPasswords(options.dataDir, options.log)
  let server: NatsServerProcess
  try {
    server = await startNatsServer({
      name: 'nats',
      port: await freePort(4222),
      storeDir: join(options.dataDir, 'nats'),
      args: ['-c', PERMISSIONS_CONF],
      env: natsServerEnv(passwords),
      log: options.log
    })
  } catch (error) {
    throw new Error(
      `could not start a nats-server of the launcher's own (${(error as Error).message}); install nats-server, or set NATS_URL to a running one ` +
        '(with NATS_PASSWORD_<USER> when it runs deploy/nats/permissions.conf)'
    )
  }
  options.log(`launcher   | nats-server on ${server.url} with deploy/nats/permissions.conf (passwords in ${join(options.dataDir, 'nats-passwords.json')})`)
  return { url: server.url, passwords, server }
}

/** The services' variables for NATS: the URL, and the user and password of the service's own user when there is one. */
export function serviceNatsEnv(nats: LauncherNats, service: string): NodeJS.ProcessEnv {
  const password = nats.passwords[service as NatsUser]
  return { NATS_URL: nats.url, ...(password ? { NATS_USER: service, NATS_PASSWORD: password } : {}) }
}

/** Variables no child inherits: each service gets its own user and password, never another's. */
export const NATS_CREDENTIAL_VARIABLES = ['NATS_USER', 'NATS_PASSWORD', ...NATS_USER_NAMES.map(natsPasswordVariable)]

function passwordsFromEnv(env: NodeJS.ProcessEnv): Partial<Record<NatsUser, string>> {
  const passwords: Partial<Record<NatsUser, string>> = {}
  for (const user of NATS_USER_NAMES) {
    const value = env[natsPasswordVariable(user)]
    if (value) passwords[user] = value
  }
  return passwords
}

async function checkReachable(natsUrl: string): Promise<void> {
  const servers = natsUrl.split(',').map((server) => server.trim())
  if (!servers.every((server) => /^nats:\/\//.test(server) && URL.canParse(server))) return
  for (const server of servers) {
    const url = new URL(server)
    if (await reachable(url.hostname || '127.0.0.1', Number(url.port || 4222))) return
  }
  throw new Error(`NATS is not reachable at ${withoutPasswords(natsUrl)} (NATS_URL); start \`nats-server -js\`, or leave NATS_URL unset for the launcher's own`)
}

function withoutPasswords(natsUrl: string): string {
  return natsUrl.replace(/\/\/([^:@/,]*):[^@/,]*@/g, '//$1:***@')
}
