import { Type } from 'typebox'
import { Credentials, ProblemDetails, RefreshTokenBody, Session } from '@chat/contracts'

const tags = ['identity']

export const registerSchema = {
  operationId: 'register',
  tags,
  summary: 'Create an account and start a session',
  body: Credentials,
  response: { 201: Session, 400: ProblemDetails, 409: ProblemDetails, 413: ProblemDetails, 429: ProblemDetails }
}

export const loginSchema = {
  operationId: 'login',
  tags,
  summary: 'Start a session; one answer for an unknown name and a wrong password',
  body: Credentials,
  response: { 200: Session, 400: ProblemDetails, 401: ProblemDetails, 429: ProblemDetails }
}

export const refreshSchema = {
  operationId: 'refresh',
  tags,
  summary: 'Exchange a refresh token for a new session; the old token stops working',
  body: RefreshTokenBody,
  response: { 200: Session, 400: ProblemDetails, 401: ProblemDetails }
}

export const logoutSchema = {
  operationId: 'logout',
  tags,
  summary: 'End the session of a refresh token (its whole family)',
  security: [{ bearer: [] }],
  body: RefreshTokenBody,
  response: { 204: Type.Null(), 400: ProblemDetails, 401: ProblemDetails }
}
