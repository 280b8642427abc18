import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors/app-error.js';
import { OAuthError } from '../../errors/oauth-error.js';
import { MAX_REPORTED_ERRORS } from '../validation.js';
import type { Config } from '../../config.js';
import { SCOPES } from '../../domain/principal.js';
import type { Services } from '../../services/container.js';
import type { ClientAuth } from '../../services/token-service.js';
import { OAuthErrorSchema, RevokeRequestBody, TokenRequestBody, TokenResponseSchema } from '../schemas/credential-schemas.js';

const tags = ['OAuth'];
const oauthErrors = { 400: OAuthErrorSchema, 401: OAuthErrorSchema };
/** The only routes that take forms (RFC 6749 §4.4.2, RFC 7009 §2.1); JSON is accepted too. */
const FORM_OR_JSON = ['application/x-www-form-urlencoded', 'application/json'] as const;

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

interface OAuthIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
  data?: unknown;
}

/**
 * One validation issue of an OAuth request in the words of RFC 6749: a parameter is missing,
 * repeated (§3.2: at most once) or not what it should be. Parameters are named as sent.
 */
export function describeOAuthIssue(issue: OAuthIssue): string {
  const name = (issue.instancePath ?? '').replace(/^\//, '').replace(/~1/g, '/').replace(/~0/g, '~');
  if (issue.keyword === 'required' && typeof issue.params?.missingProperty === 'string') return `${issue.params.missingProperty} is missing`;
  // The edge's refusal of the body text itself (not UTF-8, …) says what is wrong with it.
  if (name === '' && issue.params?.context === 'body' && issue.message) return `the body ${issue.message}`;
  if (name === '') return 'the request must carry its parameters as an application/x-www-form-urlencoded (or JSON) body';
  if (issue.keyword === 'type' && Array.isArray(issue.data)) return `${name} is sent more than once (each parameter at most once, RFC 6749 §3.2)`;
  return `${name} ${issue.message ?? 'is not valid'}`;
}

/**
 * Validation failures on OAuth routes are reported the OAuth way (RFC 6749 §5.2): 400
 * invalid_request, saying which parameter is missing, repeated or wrong. So are the edge's
 * refusals of the request itself (media type, charset, text that cannot be stored).
 */
function oauthErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof OAuthError) throw error;
  const invalid = (description: string) => reply.code(400).header('cache-control', 'no-store').send({ error: 'invalid_request', error_description: description });
  if (error instanceof AppError) {
    if (error.status < 500 && error.code.startsWith('request.')) return invalid(error.message);
    throw error;
  }
  if (Array.isArray(error.validation)) {
    const described = [...new Set((error.validation as OAuthIssue[]).map(describeOAuthIssue))];
    const shown = described.slice(0, MAX_REPORTED_ERRORS);
    const more = described.length - shown.length;
    return invalid(`${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}.`);
  }
  if (error.statusCode !== undefined && error.statusCode < 500) return invalid(error.message);
  throw error;
}

/** RFC 6749 §3.1: a parameter sent without a value is treated as if it were omitted. */
async function dropEmptyParameters(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  for (const [name, value] of Object.entries(body)) if (value === '') delete (body as Record<string, unknown>)[name];
}

export function registerOAuthRoutes(fastify: FastifyInstance, services: Services, config: Config): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/v1/oauth/token', {
    config: { auth: 'public', bodyTypes: FORM_OR_JSON },
    errorHandler: oauthErrorHandler,
    preValidation: dropEmptyParameters,
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
      if (!auth) throw new OAuthError('invalid_client', 'Client authentication is missing: send client_id and client_secret, or HTTP Basic credentials.');
      return services.tokens.clientCredentials(auth, body.scope);
    }
    if (body.grant_type === 'refresh_token') {
      if (!body.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is missing (grant_type=refresh_token needs it).');
      return services.tokens.refresh(body.refresh_token, auth, body.scope);
    }
    throw new OAuthError('unsupported_grant_type', `grant_type ${JSON.stringify(body.grant_type)} is not supported; use client_credentials or refresh_token.`);
  });

  app.post('/v1/oauth/revoke', {
    config: { auth: 'public', bodyTypes: FORM_OR_JSON },
    errorHandler: oauthErrorHandler,
    preValidation: dropEmptyParameters,
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
