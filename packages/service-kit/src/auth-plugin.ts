import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from './errors.js'
import { bearerToken, InvalidTokenError, KeysUnavailableError, type AuthUser, type TokenVerifier } from './tokens.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook for routes that need a caller: sets `request.user` or answers 401. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    tokenVerifier: TokenVerifier
  }
  interface FastifyRequest {
    user: AuthUser | null
  }
}

/** Narrows `request.user` inside a handler that runs after `authenticate`. */
export function callerOf(request: FastifyRequest): AuthUser {
  if (!request.user) throw new AppError(401, 'unauthenticated', 'A valid access token is required')
  return request.user
}

export const authPlugin = fp<{ verifier: TokenVerifier }>(
  async (app, { verifier }) => {
    app.decorate('tokenVerifier', verifier)
    app.decorateRequest('user', null)
    app.decorate('authenticate', async (request: FastifyRequest) => {
      try {
        const { id, displayName } = await verifier.verify(bearerToken(request.headers.authorization))
        request.user = { id, displayName }
      } catch (error) {
        if (error instanceof InvalidTokenError) throw new AppError(401, 'unauthenticated', error.message, {}, { 'www-authenticate': 'Bearer' })
        if (error instanceof KeysUnavailableError) {
          request.log.error({ err: error }, 'token keys unavailable')
          throw new AppError(503, 'auth_unavailable', 'Tokens cannot be verified right now; try again shortly', {}, { 'retry-after': '5' })
        }
        throw error
      }
    })
  },
  { name: '@chat/auth', fastify: '5.x' }
)
