// deploy/k8s beyond the services themselves: the NetworkPolicies (each
// service reachable only from the ingress controller, the gateway and
// Prometheus, and reaching only PostgreSQL, NATS and identity's JWKS where it
// uses them) and the gateway Deployment (every template placeholder set, the
// same failure policy per upstream as the launcher's).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { GATEWAY_UPSTREAMS, NGINX_TEMPLATE, SERVER_PARAMETERS, templatePlaceholders } from '../../../deploy/nginx/render.js'
import { REPO_ROOT, defaultPort, loadServiceConfig, readRepoFile, serviceDirectories, yamlDocuments } from './deploy-lib.js'

interface Peer {
  namespaceSelector?: { matchLabels?: Record<string, string> }
  podSelector?: { matchLabels?: Record<string, string> }
}
interface Rule {
  from?: Peer[]
  to?: Peer[]
  ports?: Array<{ protocol: string; port: number }>
}
interface Policy {
  kind: string
  metadata: { name: string }
  spec: {
    podSelector: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values: string[] }> }
    policyTypes: string[]
    ingress?: Rule[]
    egress?: Rule[]
  }
}

const services = serviceDirectories()
const ports = new Map<string, number>()
for (const name of services) ports.set(name, defaultPort(await loadServiceConfig(name)))
const k8s = (file: string): Record<string, unknown>[] => yamlDocuments(join(REPO_ROOT, 'deploy', 'k8s', file))

/** A peer as a short name: `ns:<namespace>`, `pod:<app>`, `db`, or `?`. */
function peerName(peer: Peer): string {
  const namespace = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']
  const app = peer.podSelector?.matchLabels?.['app.kubernetes.io/name']
  if (peer.podSelector?.matchLabels?.['cnpg.io/cluster'] === 'chat-db') return 'db'
  if (namespace && !peer.podSelector) return `ns:${namespace}`
  if (app && !peer.namespaceSelector) return `pod:${app}`
  if (namespace === 'kube-system' && peer.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns') return 'dns'
  return '?'
}

const policies = k8s('network-policies.yaml') as unknown as Policy[]
const byName = new Map(policies.map((policy) => [policy.metadata.name, policy]))

t.test('every pod of ours starts from deny-all, with DNS allowed', async (t) => {
  t.ok(readRepoFile('deploy', 'k8s', 'kustomization.yaml').includes('network-policies.yaml'), 'kustomization applies the policies')
  const deny = byName.get('chat-default-deny')
  const selected = deny?.spec.podSelector.matchExpressions?.[0]?.values ?? []
  t.same([...selected].sort(), [...services, 'gateway', 'migrate'].sort(), 'every Deployment and the migrate Job are selected')
  t.same(deny?.spec.policyTypes, ['Ingress', 'Egress'], 'in and out')
  t.notOk(deny?.spec.ingress ?? deny?.spec.egress, 'and nothing is allowed by it')
  const dns = byName.get('chat-dns')
  t.same(dns?.spec.egress?.flatMap((rule) => rule.to ?? []).map(peerName), ['dns'], 'DNS is the one egress every pod has')
})

t.test('each service: in from the ingress controller, the gateway and Prometheus; out to what it uses', async (t) => {
  const verifiers = services.filter((name) => name !== 'identity')
  for (const name of services) {
    const policy = byName.get(name)
    if (!t.ok(policy, `${name}: a NetworkPolicy`) || !policy) continue
    t.same(policy.spec.podSelector.matchLabels, { 'app.kubernetes.io/name': name }, `${name}: selects its pods`)
    const ingressPeers = (policy.spec.ingress ?? []).flatMap((rule) => (rule.from ?? []).map(peerName)).sort()
    const expectedIn = ['ns:ingress-nginx', 'pod:gateway', 'ns:monitoring', ...(name === 'identity' ? verifiers.map((verifier) => `pod:${verifier}`) : [])].sort()
    t.same(ingressPeers, expectedIn, `${name}: accepts only ${expectedIn.join(', ')}`)
    t.same((policy.spec.ingress ?? []).flatMap((rule) => (rule.ports ?? []).map((port) => port.port)), [ports.get(name)], `${name}: only on its port ${ports.get(name)}`)
    const egress = (policy.spec.egress ?? []).map((rule) => `${(rule.to ?? []).map(peerName).join('+')}:${(rule.ports ?? []).map((port) => port.port).join(',')}`).sort()
    // identity hears presence on NATS (GET /users/?ids=); it verifies no token, so it does not call itself.
    const expectedOut = name === 'identity' ? ['db:5432', 'pod:nats:4222'] : ['db:5432', 'pod:identity:3001', 'pod:nats:4222']
    t.same(egress, expectedOut, `${name}: reaches only ${expectedOut.join(', ')}`)
  }
  const gateway = byName.get('gateway')
  t.same((gateway?.spec.egress ?? []).map((rule) => `${(rule.to ?? []).map(peerName).join('+')}:${(rule.ports ?? [])[0]?.port}`).sort(), services.map((name) => `pod:${name}:${ports.get(name)}`).sort(), 'the gateway reaches each service on its port, nothing else')
  t.same((gateway?.spec.ingress ?? []).flatMap((rule) => (rule.from ?? []).map(peerName)), ['ns:ingress-nginx'], 'the gateway accepts only the ingress controller')
  t.same(byName.get('migrate')?.spec.egress?.flatMap((rule) => (rule.to ?? []).map(peerName)), ['db'], 'the migrate Job reaches only PostgreSQL')
})

t.test('the gateway Deployment sets every placeholder of the template, with the launcher failure policy', async (t) => {
  const deployment = k8s('gateway.yaml').find((document) => document.kind === 'Deployment') as
    | { spec: { template: { spec: { containers: Array<{ image: string; env: Array<{ name: string; value: string }> }> } } } }
    | undefined
  if (!t.ok(deployment, 'a gateway Deployment') || !deployment) return
  const container = deployment.spec.template.spec.containers[0]!
  t.equal(container.image, 'chat/gateway')
  const env = new Map(container.env.map((entry) => [entry.name, entry.value]))
  for (const placeholder of templatePlaceholders(readFileSync(NGINX_TEMPLATE, 'utf8'))) t.ok(env.has(placeholder), `sets ${placeholder}`)
  for (const group of GATEWAY_UPSTREAMS) {
    t.equal(env.get(`${group.toUpperCase()}_SERVERS`), `server ${group}:${ports.get(group)} ${SERVER_PARAMETERS[group]};`, `${group}: its Service, with the launcher's failure policy`)
  }
})
