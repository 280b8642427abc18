import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/container.js';

/** POST /Bulk (RFC 7644 §3.7). */
export function registerScimBulkRoute(_app: FastifyInstance, _services: Services): void {}
