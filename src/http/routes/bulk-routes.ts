import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/container.js';
import { presentBulkDisable, presentBulkUpsert } from '../presenters/bulk-presenter.js';
import { problemResponses } from '../schemas/common-schemas.js';
import { BulkDisableBody, BulkDisableResponse, BulkUpsertBody, BulkUpsertResponse, MAX_BULK_ROWS } from '../schemas/bulk-schemas.js';

const tags = ['Bulk'];
const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ description: 'Retries with the same key and body replay the first response for 24 h.' })) });

/** Largest body a bulk call reads: 10,000 full rows with room to spare. */
export const BULK_BODY_LIMIT = 64 * 1024 * 1024;

/** Bulk upsert by external key and bulk disable (`users:write`). */
export function registerBulkRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/v1/users/bulk', {
    config: { auth: 'users:write', idempotent: true },
    bodyLimit: BULK_BODY_LIMIT,
    schema: {
      tags, summary: 'Create and update many users by external key', operationId: 'bulkUpsertUsers',
      description:
        `Up to ${MAX_BULK_ROWS} rows, each identified by (origin, key): the user's external id for that origin. Only the fields a row sends change (JSON Merge Patch); ` +
        'references (manager, position, area, groups, roles, organizations, environments) name their target by id, name (organizations: code) or external key, and a manager may be another row of the request, in any order. ' +
        'Each row is applied whole or not at all and fails alone; rows that change nothing write nothing. `dryRun` answers the same without writing. Honours Idempotency-Key.',
      headers: IdempotencyHeaders,
      body: BulkUpsertBody,
      response: { 200: BulkUpsertResponse, ...problemResponses(400, 413, 415) },
    },
  }, async (req) => {
    const { origin, mode = 'upsert', dryRun = false, users } = req.body;
    const result = await services.bulk.upsert(req.principal, { origin, mode, dryRun, rows: users as Record<string, unknown>[] });
    return presentBulkUpsert(result, users.map((u) => u.key), req.id);
  });

  app.post('/v1/users/bulk-disable', {
    config: { auth: 'users:write', idempotent: true },
    bodyLimit: BULK_BODY_LIMIT,
    schema: {
      tags, summary: 'Suspend many users by id or external key', operationId: 'bulkDisableUsers',
      description:
        `Up to ${MAX_BULK_ROWS} users, each by {id} or {origin, key}, moved to suspended through the lifecycle table (\`user.suspended\`). ` +
        'A user already suspended is unchanged; one with preventDeprovision, one that cannot be suspended from its status, or one not found is an error row. Honours Idempotency-Key.',
      headers: IdempotencyHeaders,
      body: BulkDisableBody,
      response: { 200: BulkDisableResponse, ...problemResponses(400, 413, 415) },
    },
  }, async (req) => {
    const result = await services.bulk.disable(req.principal, req.body.users, req.body.dryRun ?? false);
    return presentBulkDisable(result, req.body.users, req.id);
  });
}
