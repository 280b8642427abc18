import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { OAuthError } from '../../errors/oauth-error.js';
import type { Config } from '../../config.js';
import { SCOPES } from '../../domain/principal.js';
import type { Services } from '../../services/container.js';
import type { ClientAuth } from '../../services/token-service.js';
import { OAuthErrorSchema, RevokeRequestBody, TokenRequestBody, TokenResponseSchema } from '../schemas/credential-schemas.js';

const tags = ['OAuth'];
const oauthErrors = { 400: OAuthErrorSchema, 401: OAuthErrorSchema };

/**
 * Client authentication (RFC 6749 §2.3.1): HTTP Basic with url-encoded id and secret, or
 * client_id/client_secret in the body; using both at once is an error.
 */
function clientAuth(request: FastifyRequest, body: { client_id?: string | undefined; client_secret?: string | undefined }): ClientAuth | undefined {
  const header = request.headers.authorization;
  const basic = header && /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
  if (header && !basic) throw new OAuthError('invalid_client', 'Use HTTP Basic client authentication or client_id/client_secret in the body.');
  if (basic) {
    if (body.client_secret !== undefined) throw new OAuthError('invalid_request', 'Authenticate the client by one method only.');
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'The Basic credentials must be client_id:client_secret.');
    try {
      return { clientId: decodeURIComponent(decoded.slice(0, colon)), clientSecret: decodeURIComponent(decoded.slice(colon + 1)) };
    } catch {
      throw new OAuthError('invalid_client', 'The Basic credentials are not correctly URL-encoded.');
    }
  }
  if (body.client_id !== undefined && body.client_secret !== undefined) return { clientId: body.client_id, clientSecret: body.client_secret };
  if (body.client_id !== undefined || body.client_secret !== undefined) throw new OAuthError('invalid_client', 'Send both client_id and client_secret.');
  return undefined;
}

/** Validation failures on OAuth routes are reported the OAuth way. */
function oauthErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof OAuthError) throw error;
  if (error.validation || (error.statusCode !== undefined && error.statusCode < 500)) {
    return reply.code(400).header('cache-control', 'no-store').send({ error: 'invalid_request', error_description: error.message });
  }
  throw error;
}

export function registerOAuthRoutes(fastify: FastifyInstance, services: Services, config: Config): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/v1/oauth/token', {
    config: { auth: 'public' },
    errorHandler: oauthErrorHandler,
    schema: {
      tags, summary: 'Get an access token (client_credentials) or rotate a refresh token (refresh_token)',
      description: 'Form-encoded (application/x-www-form-urlencoded) or JSON. Client authentication by HTTP Basic or client_id/client_secret in the body. ' +
        'A client_credentials request without scope gets every scope of the client; errors are OAuth errors (RFC 6749 §5.2), not problem details.',
      operationId: 'requestToken', consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: TokenRequestBody,
      response: { 200: TokenResponseSchema, ...oauthErrors },
    },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const body = req.body;
    const auth = clientAuth(req, body);
    if (body.grant_type === 'client_credentials') {
      if (!auth) throw new OAuthError('invalid_client', 'Client authentication is required.');
      return services.tokens.clientCredentials(auth, body.scope);
    }
    if (body.grant_type === 'refresh_token') {
      if (!body.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required.');
      return services.tokens.refresh(body.refresh_token, auth, body.scope);
    }
    throw new OAuthError('unsupported_grant_type', 'Supported grant types: client_credentials, refresh_token.');
  });

  app.post('/v1/oauth/revoke', {
    config: { auth: 'public' },
    errorHandler: oauthErrorHandler,
    schema: {
      tags, summary: 'Revoke an access token or refresh token (RFC 7009)',
      body: RevokeRequestBody, response: { 200: Type.Object({}), ...oauthErrors },
      operationId: 'revokeToken', consumes: ['application/x-www-form-urlencoded', 'application/json'],
      description: 'Answers 200 whether or not the token was valid (RFC 7009). A refresh token needs the client that holds it (HTTP Basic or client_id/client_secret).',
    },
  }, async (req, reply) => {
    await services.tokens.revoke(req.body.token, clientAuth(req, req.body));
    return reply.header('cache-control', 'no-store').send({});
  });

  app.get('/.well-known/jwks.json', {
    config: { auth: 'public' },
    schema: {
      tags, summary: 'Public keys that verify access tokens', operationId: 'getJwks', description: 'A JSON Web Key Set (RFC 7517) with every key whose tokens may still be valid.',
    },
  }, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(await services.signingKeys.jwks()));

  app.get('/.well-known/oauth-authorization-server', {
    config: { auth: 'public' },
    schema: {
      tags, summary: 'Authorization server metadata (RFC 8414)', operationId: 'getAuthorizationServerMetadata',
      description: 'Where the token, revocation and key endpoints are and what they support, for OAuth client libraries.',
    },
  }, async () => ({
    issuer: config.issuer,
    token_endpoint: `${config.issuer}/v1/oauth/token`,
    revocation_endpoint: `${config.issuer}/v1/oauth/revoke`,
    jwks_uri: `${config.issuer}/.well-known/jwks.json`,
    grant_types_supported: ['client_credentials', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    scopes_supported: [...SCOPES],
    response_types_supported: ['token'],
    token_endpoint_auth_signing_alg_values_supported: ['EdDSA'],
  }));
}
