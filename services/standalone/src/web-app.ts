import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'

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
    setHeaders(response, path) {
      response.setHeader('cache-control', path.includes(`${join('assets', '')}`) ? 'public, max-age=31536000, immutable' : 'no-cache')
      response.setHeader('x-content-type-options', 'nosniff')
    }
  })
}
