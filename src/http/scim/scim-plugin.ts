import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/container.js';
import { jsonBodyParser } from '../input-guard.js';
import { registerScimDiscoveryRoutes } from './scim-discovery-routes.js';
import { SCIM_CONTENT_TYPE } from './scim-error-presenter.js';
import { registerScimResourceRoutes } from './scim-resource-routes.js';
import { isScimUrl } from './scim-urls.js';

/** What the SCIM routes need: the services container every route registrar gets. */
export type ScimDeps = Services;

/** The body types every SCIM route takes (RFC 7644 §3.1: clients may send either). */
const SCIM_BODY_TYPES: readonly string[] = ['application/scim+json', 'application/json'];

/**
 * The SCIM 2.0 service provider under /scim/v2 (RFC 7643, RFC 7644, RFC 9865 paging). Call after
 * the error handling and the auth hook are registered. Errors under /scim/v2 are rendered as SCIM
 * errors by the app's error handler (error-handler.ts → scim-error-presenter.ts).
 */
export function registerScim(app: FastifyInstance, deps: ScimDeps): void {
  // application/scim+json is JSON, read with the same guards (UTF-8, depth, exact numbers, no
  // prototype keys) as application/json.
  app.addContentTypeParser('application/scim+json', { parseAs: 'buffer' }, jsonBodyParser(app.getDefaultJsonParser('error', 'error')));

  // Every SCIM route takes both JSON media types (PATCH too: SCIM PATCH is a PatchOp message, not
  // a merge patch) and stays out of the native OpenAPI document, whose conventions it does not follow.
  app.addHook('onRoute', (route) => {
    if (!isScimUrl(route.url)) return;
    route.config = { ...route.config, bodyTypes: route.config?.bodyTypes ?? SCIM_BODY_TYPES };
    route.schema = { ...route.schema, hide: true };
  });

  // SCIM responses, errors included, are application/scim+json (RFC 7644 §3.1, §8.1).
  app.addHook('onSend', async (request, reply, payload) => {
    if (isScimUrl(request.url) && payload !== null && payload !== undefined && reply.statusCode !== 204) reply.type(SCIM_CONTENT_TYPE);
    return payload;
  });

  registerScimDiscoveryRoutes(app);
  registerScimResourceRoutes(app, deps);
}
