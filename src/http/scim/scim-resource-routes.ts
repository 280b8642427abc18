import type { FastifyInstance } from 'fastify';
import type { ScimDeps } from './scim-plugin.js';

/** The SCIM resource endpoints (/Users, /Groups, /.search, /Bulk). A stub until they are written. */
export function registerScimResourceRoutes(_app: FastifyInstance, _deps: ScimDeps): void {}
