import { existsSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'

/**
 * The app loads its own scripts and styles only, talks to this origin (HTTP
 * and WebSocket), shows avatars from blob: URLs, and may not be framed.
 */
export const webAppContentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

/** The web app built in this checkout (`npm run build` writes apps/web/dist), when it exists. */
export function defaultWebDir(): string | undefined {
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../apps/web/dist')
  return existsSync(join(dir, 'index.html')) ? dir : undefined
}

/**
 * Serves the built web app at `/`. Routes are made for the files that exist
 * at start (no wildcard), so every other unknown path stays a problem-details
 * 404. Hashed assets are cached for good; index.html is revalidated.
 */
export const webAppPlugin: FastifyPluginAsync<{ root: string }> = async (app, options) => {
  await app.register(fastifyStatic, {
    root: options.root,
    wildcard: false,
    index: ['index.html'],
    cacheControl: false,
    setHeaders(reply, path) {
      // Vite names the files under assets/ by their content: they never change.
      const hashed = relative(options.root, path).startsWith(`assets${sep}`)
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
      reply.header('x-content-type-options', 'nosniff')
      reply.header('content-security-policy', webAppContentSecurityPolicy)
      reply.header('referrer-policy', 'no-referrer')
    }
  })
}
