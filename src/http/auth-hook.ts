import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { hasScope } from '../domain/principal.js';
import type { TokenService } from '../services/token-service.js';
import { problemResponses } from './schemas/common-schemas.js';

/**
 * Authentication runs before the body is even parsed, so an anonymous caller learns nothing
 * about validation. Each route declares its requirement in `config.auth`; routes that declare
 * nothing are refused, so forgetting it can never publish a route by accident.
 */
export function registerAuth(app: FastifyInstance, tokens: TokenService): void {
  app.decorateRequest('principal', null as never);

  app.addHook('onRoute', (route) => {
    const auth = route.config?.auth;
    if (auth === 'public' || route.url.startsWith('/docs')) return;
    // The OpenAPI security requirement follows from config.auth too (openapi-document.ts).
    route.schema = {
      ...route.schema,
      response: { ...problemResponses(401, 403), ...(route.schema?.response as object | undefined) },
    };
  });

  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config.auth;
    if (auth === 'public' || request.routeOptions.url === undefined || request.routeOptions.url.startsWith('/docs')) return;
    if (auth === undefined) throw new AppError('auth.forbidden', 'This route declares no access rule.');
    const header = request.headers.authorization;
    if (!header) throw new AppError('auth.missing_token', 'Send "Authorization: Bearer <token>" with an access token from /v1/oauth/token or an API token.');
    const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
    if (!match?.[1]) throw new AppError('auth.invalid_token', 'The Authorization header must be "Bearer <token>".');
    const principal = await tokens.authenticate(match[1]);
    // A copy per request: the authenticated principal may be cached and shared between requests.
    request.principal = { ...principal, context: { requestId: request.id } };
    if (auth !== 'authenticated' && !hasScope(request.principal.scopes, auth)) {
      throw new AppError('auth.insufficient_scope', `This operation needs the ${auth} scope; the token has: ${request.principal.scopes.join(' ') || 'none'}.`);
    }
  });
}
