// The NATS credentials across the deployment files: the permission file is
// the table of deploy/nats/permissions.ts and names every service that talks
// to NATS; compose, the Kubernetes manifests, the Helm values and the launcher
// give each of those services its own user and password, and the NATS server
// every password, from the same place. (nats-permissions.test.ts runs the
// file on a real nats-server.)
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { roomEventTypes } from '@chat/contracts'
import { serviceNatsEnv } from '../../../deploy/nats/launcher.js'
import { NATS_USERS, NATS_USER_NAMES, natsPasswordVariable, renderPermissionsConf, type NatsUserRights } from '../../../deploy/nats/permissions.js'
import { SERVICES } from '../../../deploy/start-services.js'
import { REPO_ROOT, loadServiceConfig, readRepoFile, serviceDirectories, yamlDocuments } from './deploy-lib.js'

const SECRET = 'chat-nats-passwords'
const serviceNames = serviceDirectories()
const natsServices: string[] = []
for (const name of serviceNames) if ('NATS_URL' in (await loadServiceConfig(name)).schema.properties) natsServices.push(name)
const permissionsConf = readRepoFile('deploy', 'nats', 'permissions.conf')
const users = NATS_USERS as Record<string, NatsUserRights>

t.test('deploy/nats/permissions.conf: the table, naming every service that talks to NATS', async (t) => {
  t.equal(permissionsConf, renderPermissionsConf(), 'the file is the table rendered (node --import tsx deploy/nats/permissions.ts > deploy/nats/permissions.conf)')
  t.same(natsServices, ['identity', 'messages', 'reactions', 'realtime', 'rooms'], 'the services that read NATS_URL')
  t.same([...NATS_USER_NAMES].sort(), [...natsServices, 'admin'].sort(), 'a user for each of them, and the admin')
  for (const user of NATS_USER_NAMES) t.match(permissionsConf, new RegExp(`user: ${user}\\n\\s+password: \\$${natsPasswordVariable(user)}\\n`), `${user}: its password from $${natsPasswordVariable(user)}`)
  for (const type of roomEventTypes) {
    const publishers = natsServices.filter((user) => users[user]?.publish?.includes(`chat.room.*.${type}`))
    t.equal(publishers.length, 1, `${type}: one service may publish it (${publishers.join(', ')})`)
  }
  t.notOk(users.realtime?.publish?.some((subject) => subject.startsWith('$JS.')), 'the gateway has no JetStream API rights')
  t.notOk(Object.values(users).some((rights) => rights.publish?.some((subject) => /^(>|\*|_INBOX\.>|chat\.room\.>)$/.test(subject))), 'no service publishes on a catch-all subject')
  t.notOk(Object.values(users).some((rights) => rights.subscribe?.includes('_INBOX.>')), "no service reads the others' replies")
})

t.test('the launcher gives each service its own user', async (t) => {
  const passwords = Object.fromEntries(NATS_USER_NAMES.map((user) => [user, `p-${user}`]))
  for (const name of natsServices) {
    t.ok(SERVICES[name as keyof typeof SERVICES].nats, `${name}: talks to NATS`)
    t.same(serviceNatsEnv({ url: 'nats://x:4222', passwords, server: null }, name), { NATS_URL: 'nats://x:4222', NATS_USER: name, NATS_PASSWORD: `p-${name}` }, `${name}: NATS_USER ${name} with its password`)
  }
  t.same(serviceNatsEnv({ url: 'nats://x:4222', passwords: {}, server: null }, 'rooms'), { NATS_URL: 'nats://x:4222' }, 'no credentials for a server without authorization')
})

t.test('docker-compose.yml', async (t) => {
  interface ComposeService {
    environment?: Record<string, string | number>
    command?: string[] | string
    entrypoint?: string[]
    volumes?: string[]
    depends_on?: Record<string, { condition: string }>
  }
  const compose = parse(readRepoFile('docker-compose.yml'), { merge: true, maxAliasCount: 100 }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> }
  const volumeOf = (user: string): string => `nats-password-${user}`
  const allPasswordVolumes = NATS_USER_NAMES.map(volumeOf)
  for (const volume of allPasswordVolumes) t.ok(volume in compose.volumes, `the volume ${volume} is declared`)

  const nats = compose.services.nats!
  const command = (nats.command as string[]).join(' ')
  const conf = /-c (\S+)/.exec(command)?.[1]
  t.ok(nats.volumes?.includes(`./deploy/nats/permissions.conf:${conf}:ro`), `nats runs deploy/nats/permissions.conf (-c ${conf})`)
  const entrypoint = (nats.entrypoint ?? []).join(' ')
  for (const user of NATS_USER_NAMES) {
    const mount = nats.volumes?.find((volume) => volume.startsWith(`${volumeOf(user)}:`))?.split(':')[1]
    t.ok(mount, `nats mounts ${user}'s password volume`)
    t.ok(entrypoint.includes(`${natsPasswordVariable(user)}="$$(cat ${mount}/password)"`), `nats reads $${natsPasswordVariable(user)} from it`)
  }
  t.match(entrypoint, /exec nats-server "\$\$@"/, 'then runs nats-server with the command')
  t.same([...(compose.services.natsauth?.volumes ?? [])].map((volume) => volume.split(':')[0]).sort(), [...allPasswordVolumes].sort(), 'natsauth writes every password volume')

  for (const name of serviceNames) {
    const service = compose.services[name]!
    const mounted = (service.volumes ?? []).map((volume) => volume.split(':')[0]!).filter((volume) => allPasswordVolumes.includes(volume))
    if (!natsServices.includes(name)) {
      t.same(mounted, [], `${name}: no NATS password`)
      continue
    }
    t.equal(service.environment?.NATS_USER, name, `${name}: NATS_USER ${name}`)
    t.same(mounted, [volumeOf(name)], `${name}: mounts its own password volume, no other`)
    const target = service.volumes!.find((volume) => volume.startsWith(`${volumeOf(name)}:`))!.split(':')[1]
    const start = Array.isArray(service.command) ? service.command.join(' ') : (service.command ?? '')
    t.ok(start.includes(`NATS_PASSWORD="$$(cat ${target}/password)"`), `${name}: reads NATS_PASSWORD from it at start`)
    t.equal(service.depends_on?.natsauth?.condition, 'service_completed_successfully', `${name}: starts after the passwords exist`)
  }
})

t.test('deploy/k8s: a user per service, its password from the Secret', async (t) => {
  const dir = join(REPO_ROOT, 'deploy', 'k8s')
  const documents = ['configmaps.yaml', ...serviceNames.map((name) => `${name}.yaml`)].flatMap((file) => yamlDocuments(join(dir, file)))
  const find = (kind: string, name: string) => documents.find((document) => document.kind === kind && (document.metadata as { name: string }).name === name)
  for (const name of serviceNames) {
    const configMap = find('ConfigMap', `chat-${name}`) as { data: Record<string, string> } | undefined
    const container = (find('Deployment', name) as { spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }> }> } } } } | undefined)
      ?.spec.template.spec.containers[0]
    const password = container?.env?.find((entry) => entry.name === 'NATS_PASSWORD')
    if (!natsServices.includes(name)) {
      t.notOk(configMap?.data.NATS_USER ?? password, `${name}: no NATS credentials`)
      continue
    }
    t.equal(configMap?.data.NATS_USER, name, `${name}: NATS_USER ${name} in its ConfigMap`)
    t.same(password?.valueFrom?.secretKeyRef, { name: SECRET, key: name }, `${name}: NATS_PASSWORD from ${SECRET}, key ${name}`)
  }
})

t.test('deploy/nats/values.yaml: the same file, every password from the same Secret', async (t) => {
  interface EnvValue { valueFrom?: { secretKeyRef?: { name: string; key: string } } }
  const values = parse(readRepoFile('deploy', 'nats', 'values.yaml')) as {
    config: { merge: Record<string, unknown> }
    configMap: { merge: { data: Record<string, string> } }
    container: { env: Record<string, EnvValue | string> }
    natsBox: { container: { env: Record<string, EnvValue | string> } }
  }
  const included = Object.entries(values.config.merge).filter(([key]) => key.endsWith('$include')).map(([, file]) => file)
  t.same(included, ['chat-permissions.conf'], 'the server config includes chat-permissions.conf')
  t.equal(values.configMap.merge.data['chat-permissions.conf'], permissionsConf, 'which is deploy/nats/permissions.conf word for word')
  for (const user of NATS_USER_NAMES) {
    t.same((values.container.env[natsPasswordVariable(user)] as EnvValue | undefined)?.valueFrom?.secretKeyRef, { name: SECRET, key: user }, `${natsPasswordVariable(user)} from ${SECRET}, key ${user}`)
  }
  t.equal(values.natsBox.container.env.NATS_USER, 'admin', 'nats-box connects as admin')
  t.same((values.natsBox.container.env.NATS_PASSWORD as EnvValue).valueFrom?.secretKeyRef, { name: SECRET, key: 'admin' }, "with admin's password")
})

t.test('deploy/README.md tells how to create the Secret with every key', async (t) => {
  const readme = readRepoFile('deploy', 'README.md')
  t.match(readme, new RegExp(`create secret generic ${SECRET}`), `kubectl create secret generic ${SECRET}`)
  for (const user of NATS_USER_NAMES) t.match(readme, new RegExp(`--from-literal=${user}=`), `with the key ${user}`)
})
