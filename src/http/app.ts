import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import type { Config } from '../config.js';
import { newId } from '../lib/ids.js';
import type { Services } from '../services/container.js';
import './fastify-types.js';
import { registerAuth } from './auth-hook.js';
import { frameworkErrorProblem, registerErrorHandling } from './error-handler.js';
import { registerIdempotency } from './idempotency-hook.js';
import { registerOpenApi } from './openapi-document.js';
import { jsonBodyParser, parseFormText, registerInputGuard } from './input-guard.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerDirectoryRoutes } from './routes/directory-routes.js';
import { registerEventRoutes } from './routes/event-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerJobRoutes } from './routes/job-routes.js';
import { registerMembershipRoutes } from './routes/membership-routes.js';
import { registerOAuthRoutes } from './routes/oauth-routes.js';
import { registerUserRoutes } from './routes/user-routes.js';
import { registerBulkRoutes } from './routes/bulk-routes.js';
import { ndjsonBodyParser } from './ndjson-body.js';
import { registerSyncRunRoutes } from './routes/sync-run-routes.js';
import { registerScim } from './scim/scim-plugin.js';
import { NoQuery, ProblemSchema } from './schemas/common-schemas.js';
import { validatorCompiler } from './validation.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface AppOptions {
  config: Config;
  services: Services;
  /** false: no log (tests); otherwise overrides of the request log (level, a stream to write to). */
  logger?: false | { level?: string; stream?: { write(line: string): void } };
}

/** Builds the HTTP server: plugins, hooks and routes. Nothing here holds a business rule. */
export async function buildApp({ config, services, logger }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // A logger configuration passed in (tests give a stream) keeps the redaction.
    logger: logger === false ? false : { ...requestLogOptions(config.logLevel), ...logger },
    bodyLimit: config.bodyLimitBytes,
    // A caller's X-Request-Id is kept when it is sane, so logs join up across services.
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : newId();
    },
    requestIdHeader: false,
    ajv: { customOptions: { removeAdditional: false } },
    routerOptions: { maxParamLength: 512 },
    // Errors met before routing (a path that is not percent-encoded UTF-8, an overlong
    // parameter) answer problem+json with a request id like every other 4xx.
    frameworkErrors: frameworkErrorProblem,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Only JSON (and forms, for OAuth) are accepted: anything else is a clear 415.
  app.removeContentTypeParser('text/plain');
  // Bodies are strict UTF-8 and checked for what storage can hold (input-guard.ts); an empty
  // JSON body means "no body". Prototype-poisoning keys are refused.
  app.removeContentTypeParser('application/json');
  const parseJsonBody = jsonBodyParser(app.getDefaultJsonParser('error', 'error'));
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'buffer' }, parseJsonBody);
  // NDJSON (the bulk upsert's rows, one per line) is read into the JSON body it stands for.
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer' }, ndjsonBodyParser(parseJsonBody));
  await app.register(formbody, { parser: parseFormText });
  registerInputGuard(app);

  app.addSchema(ProblemSchema);
  await registerOpenApi(app, config);

  registerErrorHandling(app);
  registerAuth(app, services.tokens);
  registerIdempotency(app, services.idempotency);

  // A query parameter a route does not declare is a 400 naming it, also on routes that declare
  // none: a misspelt option must not be silently ignored (`?filter=` instead of `?$filter=`).
  app.addHook('onRoute', (route) => {
    if (!/^\/(v1|\.well-known)\//.test(route.url) || route.schema?.querystring !== undefined) return;
    route.schema = { ...route.schema, querystring: NoQuery };
  });

  app.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());
  registerHealthRoutes(app, services);
  registerOAuthRoutes(app, services, config);
  registerAdminRoutes(app, services);
  registerEventRoutes(app, services);
  registerBulkRoutes(app, services);
  registerSyncRunRoutes(app, services);
  registerUserRoutes(app, services);
  registerMembershipRoutes(app, services);
  registerDirectoryRoutes(app, services);
  registerJobRoutes(app, services);
  registerScim(app, services);

  await app.ready();
  return app;
}

/**
 * The request log: no Authorization or Cookie header, and no secret sent in a query string by
 * mistake (client_secret, access_token, …): their values are replaced before the line is written.
 */
function requestLogOptions(level: string) {
  return {
    level,
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: redactQuery(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
    },
  };
}

/** Query parameters whose values are secrets wherever they appear (OAuth 2.0, RFC 6749/6750/7009). */
const SECRET_PARAMETERS = /^(client_secret|access_token|refresh_token|token|password|code|assertion|client_assertion|api_key|apikey)$/i;

/** The URL with the value of every secret-bearing query parameter replaced by `[REDACTED]`. */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    let name: string;
    try {
      name = decodeURIComponent(pair.slice(0, eq).replace(/\+/g, ' '));
    } catch {
      name = pair.slice(0, eq);
    }
    return SECRET_PARAMETERS.test(name.trim()) ? `${pair.slice(0, eq)}=[REDACTED]` : pair;
  });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}
