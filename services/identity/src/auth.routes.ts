import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { callerOf, clientAddress } from '@chat/service-kit'
import { loginSchema, logoutSchema, refreshSchema, registerSchema } from './auth.schemas.js'
import { login, logout, refresh, register, type AuthContext } from './auth.service.js'
import { identityErrors } from './errors.js'

export const authRoutes: FastifyPluginAsyncTypebox<AuthContext> = async (app, context) => {
  app.post('/auth/register', { schema: registerSchema }, async (request, reply) => {
    const { display_name: displayName, password } = request.body
    const session = await register(context, { displayName, password, address: clientAddress(request) })
    request.log.info({ user_id: session.user.id }, 'user registered')
    return reply.code(201).send(session)
  })

  app.post('/auth/login', { schema: loginSchema }, async (request) => {
    const result = await login(context, { displayName: request.body.display_name, password: request.body.password })
    if (result.kind === 'failed') {
      request.log.info({ reason: result.reason }, 'login failed')
      throw identityErrors.invalidCredentials()
    }
    return result.session
  })

  app.post('/auth/refresh', { schema: refreshSchema }, async (request) => {
    const result = await refresh(context, request.body.refresh_token)
    if (result.kind === 'reused') {
      request.log.warn({ user_id: result.userId, family_id: result.familyId }, 'refresh token re-used: family revoked')
      throw identityErrors.refreshTokenReused()
    }
    if (result.kind === 'invalid') throw identityErrors.invalidRefreshToken()
    return result.session
  })

  app.post('/auth/logout', { schema: logoutSchema, onRequest: app.authenticate }, async (request, reply) => {
    await logout(context, { userId: callerOf(request).id, refreshToken: request.body.refresh_token })
    return reply.code(204).send(null)
  })
}
