// The deployment files against the code: docker-compose.yml, the nginx
// template, deploy/k8s and the launcher name every service, with the port of
// its config schema and only variables that schema reads; every path of
// api.md reaches its service through nginx and through the Ingress.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { SERVICES } from '../../../deploy/start-services.js'
import { GATEWAY_UPSTREAMS, NGINX_TEMPLATE, SERVER_PARAMETERS, templatePlaceholders, type GatewayUpstream } from '../../../deploy/nginx/render.js'
import {
  API_SPEC,
  REPO_ROOT,
  SAMPLE_ID,
  apiRoutes,
  defaultPort,
  ingressPaths,
  ingressRoute,
  loadServiceConfig,
  nginxLocations,
  nginxRoute,
  readRepoFile,
  requiredVariables,
  samplePaths,
  serviceDirectories,
  yamlDocuments,
  type ServiceConfig
} from './deploy-lib.js'

const serviceNames = serviceDirectories()
const configs = new Map<string, ServiceConfig>()
for (const name of serviceNames) configs.set(name, await loadServiceConfig(name))
for (const config of configs.values()) {
  t.comment(`${config.name}: schema from ${config.source}`)
}
const config = (name: string): ServiceConfig => configs.get(name)!
const verifiers = serviceNames.filter((name) => 'JWKS_URL' in config(name).schema.properties)

t.test('the services the checks are about', async (t) => {
  t.same(serviceNames, ['identity', 'messages', 'reactions', 'realtime', 'rooms'], 'services/ holds the five services besides standalone')
  for (const name of serviceNames) t.ok(defaultPort(config(name)) > 0, `${name} has a default port`)
  t.same(new Set(serviceNames.map((name) => defaultPort(config(name)))).size, serviceNames.length, 'no two services share a default port')
})

t.test('the launcher (deploy/start-services.ts)', async (t) => {
  t.same(Object.keys(SERVICES).sort(), serviceNames, 'it knows every service')
  for (const name of serviceNames) {
    t.equal(SERVICES[name as keyof typeof SERVICES].port, defaultPort(config(name)), `${name}: its default port is the config's`)
    t.equal(SERVICES[name as keyof typeof SERVICES].signs, 'JWT_PRIVATE_KEY' in config(name).schema.properties, `${name}: gets the signing key exactly when it reads one`)
    t.equal(SERVICES[name as keyof typeof SERVICES].nats, 'NATS_URL' in config(name).schema.properties, `${name}: gets NATS_URL exactly when it reads it`)
  }
  t.same([...GATEWAY_UPSTREAMS].sort(), serviceNames, 'the nginx template has an upstream per service')
})

t.test('docker-compose.yml', async (t) => {
  const compose = parse(readRepoFile('docker-compose.yml'), { merge: true, maxAliasCount: 100 }) as {
    services: Record<string, {
      build?: { context: string; target?: string; args?: Record<string, string | number> }
      environment?: Record<string, string | number>
      command?: string[] | string
      depends_on?: Record<string, { condition: string }>
      healthcheck?: { test: string[] }
      deploy?: { replicas?: number }
      volumes?: string[]
      ports?: string[]
    }>
  }
  const services = compose.services
  t.ok(services.postgres?.healthcheck, 'postgres with a healthcheck')
  t.match(JSON.stringify(services.nats), /"-js"/, 'nats runs with JetStream')
  t.equal(services.migrate?.build?.target, 'migrate', 'migrate is the Dockerfile migrate target')
  t.same(Object.keys(services.migrate?.environment ?? {}), ['DATABASE_URL'], 'migrate reads DATABASE_URL only')
  t.equal(services.migrate?.depends_on?.postgres?.condition, 'service_healthy', 'migrate waits for a healthy postgres')

  for (const name of serviceNames) {
    const service = services[name]
    if (!t.ok(service, `${name} is a compose service`) || !service) continue
    const schema = config(name).schema
    const env = service.environment ?? {}
    t.equal(service.build?.args?.SERVICE, name, `${name}: built with SERVICE=${name}`)
    t.equal(Number(service.build?.args?.PORT), defaultPort(config(name)), `${name}: built with PORT=${defaultPort(config(name))} (its config default)`)
    if (env.PORT !== undefined) t.equal(Number(env.PORT), defaultPort(config(name)), `${name}: PORT`)
    for (const variable of Object.keys(env)) t.ok(variable in schema.properties, `${name}: ${variable} is a variable of its config schema`)
    const command = Array.isArray(service.command) ? service.command.join(' ') : (service.command ?? '')
    for (const variable of requiredVariables(schema)) {
      t.ok(variable in env || new RegExp(`\\b${variable}=`).test(command), `${name}: required ${variable} is set`)
    }
    t.ok(service.healthcheck, `${name}: has a healthcheck`)
    t.equal(service.depends_on?.migrate?.condition, 'service_completed_successfully', `${name}: starts after the migrations`)
    if ('NATS_URL' in schema.properties) {
      t.equal(env.NATS_URL, 'nats://nats:4222', `${name}: NATS_URL is the nats service`)
      t.equal(service.depends_on?.nats?.condition, 'service_healthy', `${name}: waits for a healthy nats`)
    }
    if (verifiers.includes(name)) {
      t.equal(env.JWKS_URL, `http://identity:${defaultPort(config('identity'))}/.well-known/jwks.json`, `${name}: verifies tokens with identity's JWKS`)
      t.equal(service.depends_on?.identity?.condition, 'service_healthy', `${name}: waits for a healthy identity`)
    }
    t.equal(String(env.TRUST_PROXY_HOPS), '1', `${name}: trusts the one gateway in front`)
  }
  t.equal(services.realtime?.deploy?.replicas, 2, 'two realtime replicas')

  const gateway = Object.values(services).find((service) => (service.volumes ?? []).some((volume) => volume.includes('nginx.conf.template')))
  if (t.ok(gateway, 'a gateway service mounts the nginx template') && gateway) {
    t.ok((gateway.ports ?? []).some((port) => /^(8080|\$\{GATEWAY_PORT:-8080\}):8080$/.test(port)), 'the gateway is published on 8080')
    const env = gateway.environment ?? {}
    const template = readFileSync(NGINX_TEMPLATE, 'utf8')
    for (const placeholder of templatePlaceholders(template)) t.ok(placeholder in env, `the gateway sets ${placeholder} for envsubst`)
    for (const name of serviceNames) {
      t.match(String(env[`${name.toUpperCase()}_SERVERS`]), `server ${name}:${defaultPort(config(name))}`, `the gateway's ${name} upstream is ${name}:${defaultPort(config(name))}`)
      t.ok(String(env[`${name.toUpperCase()}_SERVERS`]).endsWith(` ${SERVER_PARAMETERS[name as GatewayUpstream]};`), `the gateway's ${name} upstream has the launcher's failure policy`)
    }
    t.match(String(env.RESOLVER), /^resolver 127\.0\.0\.11 /, 'the gateway re-resolves the replicas with Docker\'s DNS')
  }
})

t.test('the Dockerfile', async (t) => {
  const dockerfile = readRepoFile('Dockerfile')
  t.match(dockerfile, /^ARG NODE_IMAGE=node:24-/m, 'Node 24 images')
  t.match(dockerfile, /^FROM \S+ AS migrate$/m, 'a migrate target')
  t.match(dockerfile, /^FROM \S+ AS service$/m, 'a service target')
  t.match(dockerfile, /npm ci --omit=dev/, 'production dependencies only in the final stages')
  t.equal((dockerfile.match(/^USER node$/gm) ?? []).length, 2, 'both final stages run as node')
  t.match(dockerfile, /HEALTHCHECK[\s\S]*\/healthz/, 'a HEALTHCHECK on /healthz')
  t.match(dockerfile, /^FROM nginx:1\.(2[89]|[3-9]\d)\S* AS gateway$/m, 'the gateway image is nginx 1.28 or newer (upstream servers with `resolve`)')
  t.ok(existsSync(join(REPO_ROOT, '.dockerignore')), '.dockerignore')
  t.match(readRepoFile('.dockerignore'), /node_modules/, '.dockerignore leaves node_modules out')
})

t.test('deploy/k8s', async (t) => {
  const dir = join(REPO_ROOT, 'deploy', 'k8s')
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] }
  const files = readdirSync(dir).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml').sort()
  t.same([...kustomization.resources].sort(), files, 'kustomization.yaml lists every manifest of the folder')
  const documents = files.flatMap((file) => yamlDocuments(join(dir, file)))
  const find = (kind: string, name: string) => documents.find((document) => document.kind === kind && (document.metadata as { name: string }).name === name)

  t.ok(find('Job', 'chat-migrate'), 'the migrate Job')
  const database = find('Cluster', 'chat-db') as { spec: { instances: number } } | undefined
  t.equal(database?.spec.instances, 3, 'a CloudNativePG cluster of three')

  // Every pod at the HPA's maximum holds DATABASE_POOL_SIZE connections to
  // the primary, and one more of its own for /readyz (DbHandle.ping).
  let connections = 1 // the migrate Job
  for (const name of serviceNames) {
    const hpa = find('HorizontalPodAutoscaler', name) as { spec: { maxReplicas: number } } | undefined
    const configMap = find('ConfigMap', `chat-${name}`) as { data: Record<string, string> } | undefined
    connections += (hpa?.spec.maxReplicas ?? 0) * (Number(configMap?.data.DATABASE_POOL_SIZE ?? config(name).schema.properties.DATABASE_POOL_SIZE?.default) + 1)
  }
  const maxConnections = Number((database as unknown as { spec: { postgresql: { parameters: { max_connections: string } } } } | undefined)?.spec.postgresql.parameters.max_connections)
  t.ok(connections + 10 <= maxConnections, `pools at full scale (${connections} connections) fit max_connections ${maxConnections} with 10 to spare`)

  for (const name of serviceNames) {
    const schema = config(name).schema
    const port = defaultPort(config(name))
    const deployment = find('Deployment', name) as
      | { spec: { template: { spec: {
        terminationGracePeriodSeconds: number
        securityContext: { runAsNonRoot: boolean }
        containers: {
          ports: { containerPort: number }[]
          envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[]
          env?: { name: string; value?: string }[]
          readinessProbe: { httpGet: { path: string } }
          livenessProbe: { httpGet: { path: string } }
          lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } }
          resources: { requests: Record<string, string>; limits: Record<string, string> }
          securityContext: { readOnlyRootFilesystem: boolean }
        }[]
      } } } }
      | undefined
    if (!t.ok(deployment, `${name}: a Deployment`) || !deployment) continue
    const pod = deployment.spec.template.spec
    const container = pod.containers[0]!
    t.same(container.ports.map((entry) => entry.containerPort), [port], `${name}: container port ${port}`)
    const service = find('Service', name) as { spec: { ports: { port: number }[] } } | undefined
    t.same(service?.spec.ports.map((entry) => entry.port), [port], `${name}: a Service on ${port}`)
    t.ok(find('PodDisruptionBudget', name), `${name}: a PodDisruptionBudget`)
    t.ok(find('HorizontalPodAutoscaler', name), `${name}: a HorizontalPodAutoscaler`)
    t.equal(container.readinessProbe.httpGet.path, '/readyz', `${name}: readiness /readyz`)
    t.equal(container.livenessProbe.httpGet.path, '/healthz', `${name}: liveness /healthz`)
    t.ok(container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory, `${name}: requests and limits`)
    t.equal(pod.securityContext.runAsNonRoot, true, `${name}: non-root`)
    t.equal(container.securityContext.readOnlyRootFilesystem, true, `${name}: read-only root file system`)

    // Variables: the ConfigMaps it loads, and its own env entries.
    const variables = new Map<string, string | undefined>()
    for (const source of container.envFrom ?? []) {
      if (source.configMapRef) {
        const configMap = find('ConfigMap', source.configMapRef.name) as { data: Record<string, string> } | undefined
        if (!t.ok(configMap, `${name}: ConfigMap ${source.configMapRef.name} exists`) || !configMap) continue
        for (const [key, value] of Object.entries(configMap.data)) variables.set(key, value)
      }
      if (source.secretRef) t.fail(`${name}: loads a whole Secret (${source.secretRef.name}); name its keys in env instead, so they can be checked`)
    }
    for (const entry of container.env ?? []) variables.set(entry.name, entry.value)
    for (const variable of variables.keys()) t.ok(variable in schema.properties, `${name}: ${variable} is a variable of its config schema`)
    for (const variable of requiredVariables(schema)) t.ok(variables.has(variable), `${name}: required ${variable} is set`)
    if (variables.has('PORT')) t.equal(Number(variables.get('PORT')), port, `${name}: PORT ${port}`)
    t.equal(variables.get('HOST'), '0.0.0.0', `${name}: listens on every interface`)
    t.equal(variables.get('TRUST_PROXY_HOPS'), '1', `${name}: trusts the one ingress hop`)
    if (verifiers.includes(name)) {
      t.equal(variables.get('JWKS_URL'), `http://identity:${defaultPort(config('identity'))}/.well-known/jwks.json`, `${name}: identity's JWKS`)
    }
    const shutdownMs = Number(variables.get('SHUTDOWN_TIMEOUT_MS') ?? schema.properties.SHUTDOWN_TIMEOUT_MS?.default)
    const preStop = container.lifecycle?.preStop
    const preStopSeconds = preStop?.sleep?.seconds ?? Number(preStop?.exec?.command.at(-1) ?? NaN)
    t.ok(preStopSeconds > 0, `${name}: a preStop sleep`)
    t.ok(pod.terminationGracePeriodSeconds > preStopSeconds + shutdownMs / 1000, `${name}: grace period ${pod.terminationGracePeriodSeconds} s > preStop ${preStopSeconds} s + SHUTDOWN_TIMEOUT_MS ${shutdownMs} ms`)
  }
})

t.test('deploy/nats/values.yaml', async (t) => {
  const values = parse(readRepoFile('deploy', 'nats', 'values.yaml')) as { config: { cluster: { enabled: boolean; replicas: number }; jetstream: { enabled: boolean; fileStore: { enabled: boolean } } } }
  t.equal(values.config.cluster.enabled, true, 'clustered')
  t.equal(values.config.cluster.replicas, 3, 'three servers')
  t.equal(values.config.jetstream.enabled, true, 'JetStream')
  t.equal(values.config.jetstream.fileStore.enabled, true, 'file storage')
})

t.test('every api.md path reaches its service', async (t) => {
  const routes = apiRoutes(readFileSync(API_SPEC, 'utf8'))
  t.ok(routes.length >= 25, `api.md lists ${routes.length} routes`)
  t.same([...new Set(routes.map((route) => route.service))].sort(), serviceNames, 'api.md has routes of every service')
  const locations = nginxLocations(readFileSync(NGINX_TEMPLATE, 'utf8'))
  const ingress = ingressPaths(yamlDocuments(join(REPO_ROOT, 'deploy', 'k8s', 'ingress.yaml')))
  for (const route of routes) {
    for (const path of samplePaths(route.template)) {
      t.equal(nginxRoute(locations, path)?.target, route.service, `nginx: ${route.method} ${path} -> ${route.service}`)
      const backend = ingressRoute(ingress, path)
      t.equal(backend?.service, route.service, `Ingress: ${route.method} ${path} -> ${route.service}`)
      if (backend) t.equal(backend.port, defaultPort(config(route.service)), `Ingress: ${path} on port ${defaultPort(config(route.service))}`)
    }
  }
  t.equal(nginxRoute(locations, `/messages/${SAMPLE_ID}/reaction/`)?.target, 'reactions', 'nginx: the reaction path is not taken for a message path')
  t.equal(nginxRoute(locations, `/messages/${SAMPLE_ID}/${SAMPLE_ID}/`)?.target, 'messages', 'nginx: a message of a room goes to messages')
  t.equal(nginxRoute(locations, '/somewhere/else')?.target, 'static', 'nginx: anything else is the web app')
  t.equal(ingressRoute(ingress, `/messages/${SAMPLE_ID}/reaction`)?.service, 'reactions', 'Ingress: reaction without its slash')
  t.equal(ingressRoute(ingress, '/chatroomsx'), undefined, 'Ingress: /chatroomsx is no route')

  // Body size and socket settings follow the routes.
  const avatar = ingressRoute(ingress, `/chatrooms/${SAMPLE_ID}/avatar/`)
  t.equal(avatar?.annotations['nginx.ingress.kubernetes.io/proxy-body-size'], '5184k', 'Ingress: avatar uploads up to 5 MiB plus the envelope')
  const socket = ingressRoute(ingress, '/ws/')
  t.ok(Number(socket?.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 3600, 'Ingress: sockets get a long read timeout')
  t.equal(socket?.annotations['nginx.ingress.kubernetes.io/proxy-next-upstream'], 'error timeout', 'Ingress: a socket refused by one replica tries the next')
  t.notOk(Number(socket?.annotations['nginx.ingress.kubernetes.io/upstream-max-fails'] ?? 0) > 0, 'Ingress: no replica is marked down by passive checks')
  const avatarLocation = nginxRoute(locations, `/chatrooms/${SAMPLE_ID}/avatar`)
  t.match(avatarLocation?.body, /client_max_body_size \$\{AVATAR_BODY_MAX\}/, 'nginx: the avatar location has its own body limit')
  const socketLocation = nginxRoute(locations, '/ws')
  t.match(socketLocation?.body, /Upgrade \$http_upgrade/, 'nginx: /ws passes the upgrade')
  t.match(socketLocation?.body, /proxy_buffering off/, 'nginx: /ws is not buffered')
})

t.test('every file the Dockerfile copies from the build context survives .dockerignore', async (t) => {
  const rules = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
  // Docker's rules: later lines win; `!` re-includes; `**/` matches any depth.
  const ignored = (path: string): boolean => {
    let result = false
    for (const rule of rules) {
      const negated = rule.startsWith('!')
      const pattern = (negated ? rule.slice(1) : rule).replace(/\/$/, '')
      const regex = new RegExp(
        `^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '@@ANY@@').replace(/\*/g, '[^/]*').replace(/@@ANY@@/g, '(?:.*/)?')}(?:/.*)?$`
      )
      if (regex.test(path)) result = !negated
    }
    return result
  }
  const copies = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((line) => /^COPY\s/.test(line) && !line.includes('--from='))
    .flatMap((line) => line.trim().split(/\s+/).slice(1, -1))
    .filter((source) => source !== '.')
  t.ok(copies.length > 0, `the Dockerfile copies ${copies.join(', ')} from the context`)
  for (const source of copies) {
    t.ok(existsSync(join(REPO_ROOT, source)), `${source} exists`)
    t.notOk(ignored(source), `${source} is not excluded by .dockerignore`)
  }
  t.ok(ignored('node_modules') && ignored('services/rooms/node_modules'), 'sanity: node_modules is excluded')
  t.notOk(ignored('services/rooms/src/main.ts'), 'sanity: sources are not')
})

t.test('nginx serves the web app with the same Content-Security-Policy as the standalone process', async (t) => {
  const source = readFileSync(join(REPO_ROOT, 'services', 'standalone', 'src', 'web-app.ts'), 'utf8')
  const policy = /webAppContentSecurityPolicy =\s*"([^"]+)"/.exec(source)?.[1]
  t.ok(policy, 'the standalone process declares its policy')
  t.ok(readFileSync(NGINX_TEMPLATE, 'utf8').includes(`add_header Content-Security-Policy "${policy}" always;`), 'nginx sends the same one')
})
