// njs handlers of the nginx gateway (deploy/nginx/nginx.conf.template): what
// no single service can answer because it is about all of them.
//
// - readyz: 200 when every service group answers its own /readyz, else a
//   503 problem naming the ones that do not.
// - openapi: one OpenAPI document for the whole API, merged from the
//   services' own /docs/json (each generated from its route schemas).
//
// njs 0.7 (Debian bookworm's libnginx-mod-http-js, and the official image's):
// ES2015-ish with async/await; no object spread.

const SERVICES = ['identity', 'rooms', 'messages', 'reactions', 'realtime']
// Paths each service serves about itself; the gateway describes its own instead.
const OWN_PATHS = ['/healthz', '/readyz', '/metrics']

function problem(r, status, code, title, detail, extra) {
  const body = { type: 'https://chat.example/problems/' + code.replace(/_/g, '-'), title: title, status: status, detail: detail, code: code }
  if (extra) Object.keys(extra).forEach((key) => { body[key] = extra[key] })
  r.headersOut['Content-Type'] = 'application/problem+json'
  r.headersOut['Retry-After'] = '5'
  r.return(status, JSON.stringify(body) + '\n')
}

async function readyz(r) {
  const replies = await Promise.all(SERVICES.map((name) => r.subrequest('/_gateway/ready/' + name).then((reply) => reply.status, () => 0)))
  const checks = {}
  const down = []
  SERVICES.forEach((name, index) => {
    checks[name] = replies[index] === 200 ? 'ok' : 'down'
    if (replies[index] !== 200) down.push(name)
  })
  if (down.length > 0) {
    problem(r, 503, 'not_ready', 'Service Unavailable', 'Unavailable: ' + down.join(', '), { checks: checks })
    return
  }
  r.headersOut['Content-Type'] = 'application/json'
  r.return(200, JSON.stringify({ status: 'ready', checks: checks }) + '\n')
}

function mergeDocuments(documents) {
  const merged = {
    openapi: '3.1.0',
    info: { title: 'Chat API', version: (documents[0].info && documents[0].info.version) || '0.1.0', description: 'Every service behind this gateway, in one document (merged from each service\'s /docs/json).' },
    components: { securitySchemes: {}, schemas: {} },
    paths: {},
    tags: []
  }
  const tags = {}
  documents.forEach((document) => {
    const components = document.components || {}
    Object.keys(components.securitySchemes || {}).forEach((name) => { merged.components.securitySchemes[name] = components.securitySchemes[name] })
    Object.keys(components.schemas || {}).forEach((name) => { merged.components.schemas[name] = components.schemas[name] })
    Object.keys(document.paths || {}).forEach((path) => {
      if (OWN_PATHS.indexOf(path) >= 0 || path.indexOf('/docs') === 0) return
      const operations = merged.paths[path] || {}
      const incoming = document.paths[path]
      Object.keys(incoming).forEach((method) => { operations[method] = incoming[method] })
      merged.paths[path] = operations
    })
    ;(document.tags || []).forEach((tag) => {
      if (tags[tag.name]) return
      tags[tag.name] = true
      merged.tags.push(tag)
    })
  })
  merged.paths['/healthz'] = { get: { operationId: 'healthz', tags: ['operations'], summary: 'The gateway is alive', responses: { 200: { description: 'alive' } } } }
  merged.paths['/readyz'] = {
    get: {
      operationId: 'readyz',
      tags: ['operations'],
      summary: 'Every service behind the gateway answers its own /readyz',
      responses: { 200: { description: 'ready, with `checks` per service' }, 503: { description: 'problem details naming the services that are not ready' } }
    }
  }
  return merged
}

async function openapi(r) {
  const replies = await Promise.all(SERVICES.map((name) => r.subrequest('/_gateway/docs/' + name).then((reply) => reply, () => null)))
  const missing = []
  const documents = []
  SERVICES.forEach((name, index) => {
    const reply = replies[index]
    if (!reply || reply.status !== 200) {
      missing.push(name)
      return
    }
    let document
    try {
      document = JSON.parse(reply.responseText)
      // eslint-disable-next-line @typescript-eslint/no-unused-vars -- njs 0.7 has no catch without a binding
    } catch (error) {
      document = null
    }
    if (document && typeof document.paths === 'object' && document.paths !== null) documents.push(document)
    else missing.push(name)
  })
  // Half a document would mislead a client generator: all or nothing.
  if (missing.length > 0) {
    problem(r, 503, 'service_unavailable', 'Service Unavailable', 'The API description of these services is unavailable: ' + missing.join(', '))
    return
  }
  r.headersOut['Content-Type'] = 'application/json; charset=utf-8'
  r.return(200, JSON.stringify(mergeDocuments(documents)))
}

export default { readyz, openapi }
