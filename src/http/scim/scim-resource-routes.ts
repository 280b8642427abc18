import type { FastifyInstance } from 'fastify';
import type { ScimDeps } from './scim-plugin.js';
import { registerScimBulkRoute } from './scim-bulk-routes.js';
import { registerScimGroupRoutes } from './scim-group-routes.js';
import { registerScimRootSearch } from './scim-search-routes.js';
import { registerScimUserRoutes } from './scim-user-routes.js';

/** The SCIM resource endpoints: /Users, /Groups, /.search at the root and /Bulk. */
export function registerScimResourceRoutes(app: FastifyInstance, deps: ScimDeps): void {
  registerScimUserRoutes(app, deps);
  registerScimGroupRoutes(app, deps);
  registerScimRootSearch(app, deps);
  registerScimBulkRoute(app, deps);
}
