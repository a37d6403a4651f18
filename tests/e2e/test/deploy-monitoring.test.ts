// deploy/monitoring against the services: every metric the alerts and the
// Grafana dashboard use is one the services export, read from the /metrics
// of every service started as operators run it (no list kept by hand); a
// PodMonitor per service on a port its pods have; a runbook for each alert;
// the exporters of PostgreSQL and NATS turned on in the shipped values.
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { REPO_ROOT, defaultPort, loadServiceConfig, readRepoFile, serviceDirectories, yamlDocuments } from './deploy-lib.js'
import { startServicesMode } from './helper.js'

const MONITORING = join(REPO_ROOT, 'deploy', 'monitoring')
const serviceNames = serviceDirectories()

interface Rule { alert?: string; expr: string; annotations?: Record<string, string> }
const rules = yamlDocuments(join(MONITORING, 'prometheus-rules.yaml')) as Array<{ kind: string; spec: { groups: Array<{ name: string; rules: Rule[] }> } }>
const alerts = rules.flatMap((document) => document.spec.groups.flatMap((group) => group.rules))

interface Panel { title?: string; type: string; targets?: Array<{ expr: string }>; panels?: Panel[] }
const dashboard = JSON.parse(readRepoFile('deploy', 'monitoring', 'chat-dashboard.json')) as { uid: string; panels: Panel[] }
const dashboardQueries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `dashboard panel "${panel.title}"`, expr: target.expr })))
const ruleQueries = alerts.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }))

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan'])

/**
 * The metric names of a PromQL expression: identifiers that are not
 * functions (followed by a parenthesis), keywords, label names (inside
 * braces or a by/without/on/ignoring list), strings or durations.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
  const names = new Set<string>()
  for (const match of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = bare.slice((match.index ?? 0) + match[0].length)
    if (/^\s*\(/.test(after) || PROMQL_KEYWORDS.has(match[0].toLowerCase())) continue
    // The exponent of a number such as 2e3 is no name.
    if (/[0-9.]$/.test(bare.slice(0, match.index ?? 0))) continue
    names.add(match[0])
  }
  return [...names]
}

/** The sample names a scrape's `# TYPE` lines announce (a histogram's `_bucket`, `_sum`, `_count`). */
function exportedSampleNames(scrape: string): Map<string, string> {
  const names = new Map<string, string>()
  for (const [, name, type] of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!name || !type) continue
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.set(`${name}${suffix}`, type)
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.set(`${name}${suffix}`, type)
    else names.set(name, type)
  }
  return names
}

t.test('the PromQL name reader', async (t) => {
  t.same(metricNames('histogram_quantile(0.99, sum by (le) (rate(a_bucket{service="x", route=~"/m/:id"}[5m]))) > 1'), ['a_bucket'])
  t.same(metricNames('db_pool_waiting_queries > 0 and db_pool_connections >= db_pool_max_connections'), ['db_pool_waiting_queries', 'db_pool_connections', 'db_pool_max_connections'])
  t.same(metricNames('deriv(max(b)[10m:1m]) > 2e3 unless on (pod) c'), ['b', 'c'])
})

t.test('PodMonitors: one per service, on the port its pods name', async (t) => {
  const monitors = yamlDocuments(join(MONITORING, 'pod-monitors.yaml')) as Array<{ kind: string; metadata: { name: string }; spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string; path: string }> } }>
  t.same(monitors.map((monitor) => monitor.metadata.name).sort(), serviceNames, 'every service, no other')
  for (const monitor of monitors) {
    const name = monitor.metadata.name
    t.equal(monitor.kind, 'PodMonitor')
    const deployment = yamlDocuments(join(REPO_ROOT, 'deploy', 'k8s', `${name}.yaml`)).find((document) => document.kind === 'Deployment') as {
      spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ ports?: Array<{ name: string }> }> } } }
    }
    const podLabels = deployment.spec.template.metadata.labels
    t.ok(Object.entries(monitor.spec.selector.matchLabels).every(([key, value]) => podLabels[key] === value), `${name}: selects the Deployment's pods`)
    const ports = deployment.spec.template.spec.containers.flatMap((container) => container.ports ?? []).map((port) => port.name)
    for (const endpoint of monitor.spec.podMetricsEndpoints) {
      t.ok(ports.includes(endpoint.port), `${name}: scrapes the port ${endpoint.port} its container names`)
      t.equal(endpoint.path, '/metrics')
    }
  }
  const kustomization = parse(readRepoFile('deploy', 'monitoring', 'kustomization.yaml')) as { resources: string[]; configMapGenerator: Array<{ files: string[] }> }
  t.same(kustomization.resources.sort(), ['pod-monitors.yaml', 'prometheus-rules.yaml'])
  t.same(kustomization.configMapGenerator[0]?.files, ['chat-dashboard.json'], 'the dashboard ships as a ConfigMap')
})

t.test('every alert has a runbook paragraph in deploy/README.md', async (t) => {
  const readme = readRepoFile('deploy', 'README.md')
  t.ok(alerts.length >= 6)
  for (const rule of alerts) {
    t.match(readme, new RegExp(`^#### ${rule.alert}\\n\\n\\S`, 'm'), `${rule.alert}: a runbook`)
    t.equal(rule.annotations?.runbook, `deploy/README.md#${rule.alert?.toLowerCase()}`, `${rule.alert}: the annotation points at it`)
  }
  for (const wanted of ['room_events_outbox_oldest_age_seconds', 'room_events_outbox_backlog', 'realtime_delivery_lag_seconds_bucket', 'realtime_slow_socket_closes_total', 'nats_connected', 'db_pool_waiting_queries']) {
    t.ok(alerts.some((rule) => metricNames(rule.expr).includes(wanted)), `an alert on ${wanted}`)
  }
  t.ok(alerts.some((rule) => /status=~"5\.\."/.test(rule.expr)), 'an alert on the 5xx ratio')
})

t.test('PostgreSQL\'s and NATS\'s exporters are on in the shipped values', async (t) => {
  const cluster = yamlDocuments(join(REPO_ROOT, 'deploy', 'k8s', 'postgres-cluster.yaml'))[0] as { spec: { monitoring?: { enablePodMonitor?: boolean } } }
  t.equal(cluster.spec.monitoring?.enablePodMonitor, true, 'CloudNativePG makes its PodMonitor')
  const values = parse(readRepoFile('deploy', 'nats', 'values.yaml')) as { promExporter?: { enabled?: boolean; podMonitor?: { enabled?: boolean } }; config: { monitor: { enabled: boolean } } }
  t.equal(values.promExporter?.enabled, true, 'the NATS chart runs its exporter')
  t.equal(values.promExporter?.podMonitor?.enabled, true, 'with its PodMonitor')
  t.equal(values.config.monitor.enabled, true, 'on the monitor port it reads')
})

t.test('docker-compose.yml: the observability profile', async (t) => {
  interface ComposeService { profiles?: string[]; volumes?: string[]; environment?: Record<string, string>; ports?: string[] }
  const compose = parse(readRepoFile('docker-compose.yml'), { merge: true, maxAliasCount: 100 }) as { services: Record<string, ComposeService> }
  const observability = Object.entries(compose.services).filter(([, service]) => service.profiles?.includes('observability')).map(([name]) => name)
  t.same(observability.sort(), ['grafana', 'jaeger', 'prometheus'], 'Prometheus, Grafana and Jaeger, only with the profile')
  for (const name of serviceNames) t.notOk(compose.services[name]?.profiles, `${name} runs without a profile`)
  for (const name of observability) t.ok((compose.services[name]?.ports ?? []).every((port) => port.startsWith('127.0.0.1:')), `${name} is published on 127.0.0.1 only`)

  const mounted = (service: string, target: string): string | undefined =>
    compose.services[service]?.volumes?.find((volume) => volume.split(':')[1] === target)?.split(':')[0]
  const prometheusFile = mounted('prometheus', '/etc/prometheus/prometheus.yml')
  if (t.ok(prometheusFile, 'Prometheus reads a config from the repository')) {
    const config = parse(readRepoFile(prometheusFile!)) as { scrape_configs: Array<{ metrics_path: string; dns_sd_configs: Array<{ names: string[]; port: number }>; relabel_configs: Array<{ target_label: string }> }> }
    const targets = config.scrape_configs.flatMap((job) => job.dns_sd_configs.map((entry) => ({ name: entry.names[0], port: entry.port, path: job.metrics_path })))
    for (const name of serviceNames) {
      const port = defaultPort(await loadServiceConfig(name))
      t.ok(targets.some((target) => target.name === name && target.port === port && target.path === '/metrics'), `it scrapes every replica of ${name} on ${port}`)
    }
    t.ok(config.scrape_configs.every((job) => job.relabel_configs.some((relabel) => relabel.target_label === 'service')), 'with the `service` label the dashboard selects on')
  }
  t.equal(mounted('grafana', '/var/lib/grafana/dashboards/chat-dashboard.json'), './deploy/monitoring/chat-dashboard.json', 'Grafana gets the shipped dashboard')
  const provisioning = mounted('grafana', '/etc/grafana/provisioning/dashboards/chat.yaml')
  if (t.ok(provisioning, 'and a dashboard provider')) {
    const provider = parse(readRepoFile(provisioning!)) as { providers: Array<{ options: { path: string } }> }
    t.equal(provider.providers[0]?.options.path, '/var/lib/grafana/dashboards', 'that loads it')
  }
  const datasources = mounted('grafana', '/etc/grafana/provisioning/datasources/chat.yaml')
  if (t.ok(datasources, 'and data sources')) {
    const list = (parse(readRepoFile(datasources!)) as { datasources: Array<{ type: string; url: string; isDefault?: boolean }> }).datasources
    t.ok(list.some((source) => source.type === 'prometheus' && source.url === 'http://prometheus:9090' && source.isDefault), 'the compose Prometheus, by default')
    t.ok(list.some((source) => source.type === 'jaeger' && source.url === 'http://jaeger:16686'), 'and Jaeger')
  }
  t.equal(compose.services.jaeger?.environment?.COLLECTOR_OTLP_ENABLED, 'true', 'Jaeger takes OTLP')
})

await t.test('every metric the rules and the dashboard use is exported by the services', async (t) => {
  const mode = await startServicesMode(t)
  if (!mode) return
  // One message on its way, so that the per-route series the dashboard selects exist.
  const post = (path: string, body: unknown, token?: string): Promise<Response> =>
    fetch(mode.url(path), { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
  const session = (await (await post('/auth/register', { display_name: 'Grace Hopper', password: 'correct horse battery' })).json()) as { access_token: string }
  const room = (await (await post('/chatrooms', { name: 'monitored' }, session.access_token)).json()) as { id: string }
  t.equal((await post(`/messages/${room.id}/`, { text: 'watched' }, session.access_token)).status, 201)

  const exported = new Map<string, Set<string>>()
  const scrapes = new Map<string, string>()
  for (const service of mode.services) {
    const scrape = await (await fetch(`${service.url}/metrics`)).text()
    scrapes.set(service.name, scrape)
    for (const name of exportedSampleNames(scrape).keys()) {
      const owners = exported.get(name) ?? new Set<string>()
      owners.add(service.name.replace(/-\d+$/, ''))
      exported.set(name, owners)
    }
  }
  t.comment(`${exported.size} sample names from ${[...scrapes.keys()].join(', ')}`)
  // What an operator sees after one message: the journey's samples of messages and the gateways (buckets and Node's defaults left out).
  const journey = /^(room_events_|bus_|nats_|db_pool_|realtime_(?!.*_bucket)|rate_limited_)/
  for (const [name, scrape] of scrapes) {
    if (name === 'messages' || name.startsWith('realtime')) t.comment(`/metrics of ${name}:\n${scrape.split('\n').filter((line) => journey.test(line)).join('\n')}`)
  }
  for (const { where, expr } of [...ruleQueries, ...dashboardQueries]) {
    const names = metricNames(expr)
    t.ok(names.length > 0, `${where}: reads a metric`)
    for (const name of names) {
      const owners = exported.get(name)
      if (!t.ok(owners, `${where}: ${name} is exported`)) continue
      // A query that picks one service must pick one that exports the metric.
      const service = /service="([a-z]+)"/.exec(expr)?.[1]
      if (service) t.ok(owners?.has(service), `${where}: ${service} exports ${name}`)
    }
  }
  t.match(scrapes.get('messages'), /http_request_duration_seconds_count\{[^}]*method="POST",route="\/messages\/:room_id"/, 'the send route as the dashboard selects it')
})
