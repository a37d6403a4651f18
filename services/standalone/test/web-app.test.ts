import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { webAppContentSecurityPolicy } from '../src/web-app.js'
import { standalone } from './helper.js'

// The headers are set through @fastify/static's setHeaders hook, whose
// signature changed between its majors (raw response, then the reply).
t.test('the built web app is served with its cache and security headers; other paths stay problem-details 404s', async (t) => {
  const webDir = mkdtempSync(join(tmpdir(), 'chat-web-'))
  mkdirSync(join(webDir, 'assets'))
  writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>chat</title>')
  writeFileSync(join(webDir, 'assets', 'index-abc123.js'), 'console.log(1)')
  t.teardown(() => rmSync(webDir, { recursive: true, force: true }))
  const { app } = await standalone(t, { webDir })

  const index = await app.inject('/')
  t.equal(index.statusCode, 200)
  t.match(index.body, /<title>chat<\/title>/)
  t.equal(index.headers['cache-control'], 'no-cache', 'index.html is revalidated')
  t.equal(index.headers['content-security-policy'], webAppContentSecurityPolicy)
  t.equal(index.headers['x-content-type-options'], 'nosniff')
  t.equal(index.headers['referrer-policy'], 'no-referrer')

  const asset = await app.inject('/assets/index-abc123.js')
  t.equal(asset.statusCode, 200)
  t.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable', 'hashed assets are cached for good')

  const unknown = await app.inject('/assets/missing.js')
  t.equal(unknown.statusCode, 404)
  t.match(unknown.headers['content-type'], /application\/problem\+json/)
})
