/**
 * The OpenAPI 3.1 description, generated from the contract's schemas: the
 * same ones the service validates arguments with and the client's types come from.
 */
import { ErrorBody, ServiceEvent } from '@citrate-ipfs/contract'
import { COMMANDS } from './commands.ts'

export function openApiDocument (): Record<string, unknown> {
  const errorRef = { $ref: '#/components/schemas/Error' }
  const errorResponse = (description: string): Record<string, unknown> => ({ description, content: { 'application/json': { schema: errorRef } } })
  const paths: Record<string, unknown> = {
    '/health': {
      get: { operationId: 'health', summary: 'Liveness (no token needed)', security: [], responses: { 200: { description: 'alive', content: { 'application/json': { schema: { type: 'object', required: ['ok'], properties: { ok: { const: true } } } } } } } }
    },
    '/api/events': {
      get: { operationId: 'events', summary: "Server-Sent Events: install-progress, daemon-progress, status, download-progress, pin-progress; each frame's event and data form one member of components.schemas.ServiceEvent", responses: { 200: { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 401: errorResponse('missing or wrong token') } }
    },
    '/login': {
      get: { operationId: 'login', summary: 'Exchanges a one-time login code (printed by `citrate-ipfs serve` or `citrate-ipfs login`) for a session cookie and redirects to the UI', security: [], parameters: [{ name: 'code', in: 'query', required: true, schema: { type: 'string' } }], responses: { 303: { description: 'signed in: Set-Cookie, Location: /' }, 401: errorResponse('the code is unknown, used or expired') } }
    },
    '/api/login-codes': {
      post: { operationId: 'createLoginCode', summary: 'A fresh one-time login URL (good once, for two minutes)', responses: { 201: { description: 'the URL', content: { 'application/json': { schema: { type: 'object', required: ['loginUrl', 'expiresAt'], properties: { loginUrl: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } } } } } }, 401: errorResponse('missing or wrong token') } }
    },
    '/api/openapi.json': {
      get: { operationId: 'openapi', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } }
    }
  }
  for (const [name, spec] of Object.entries(COMMANDS)) {
    paths[`/api/commands/${name}`] = {
      post: {
        operationId: name,
        summary: spec.summary,
        requestBody: { required: false, content: { 'application/json': { schema: spec.args } } },
        responses: {
          200: { description: 'the result', content: { 'application/json': { schema: spec.result } } },
          400: errorResponse('invalid arguments'),
          401: errorResponse('missing or wrong token'),
          403: errorResponse('foreign Host or Origin'),
          409: errorResponse('the request conflicts with the current state (e.g. kubo not installed, port in use)'),
          500: errorResponse('the command failed')
        }
      }
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'citrate-ipfs service', version: '0.1.0', description: "The Citrate app's IPFS commands over a loopback API. Every request under /api carries `Authorization: Bearer <token>` (the token is in $CITRATE_HOME/run/service-token), or, from the served UI's own page, the session cookie `citrate_ipfs_session_<port>` that /login sets." },
    servers: [{ url: 'http://127.0.0.1' }],
    security: [{ token: [] }],
    components: {
      securitySchemes: { token: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: ErrorBody, ServiceEvent }
    },
    paths
  }
}
