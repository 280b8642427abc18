import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/container.js';
import { presentBulkDisable, presentBulkUpsert } from '../presenters/bulk-presenter.js';
import { IdParams, pageOf, problemResponses } from '../schemas/common-schemas.js';
import { JobSchema } from '../schemas/job-schemas.js';
import { presentJob } from '../presenters/job-presenter.js';
import { encodeIdCursor, idPageQuery, positionAfter } from '../id-cursor.js';
import { AppError } from '../../errors/app-error.js';
import {
  BulkDisableBody, BulkDisableResponse, BulkJobResultSchema, BulkResultsQuery, BulkUpsertBody, BulkUpsertQuery, BulkUpsertResponse, MAX_BULK_ROWS,
} from '../schemas/bulk-schemas.js';

const tags = ['Bulk'];
const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ description: 'Retries with the same key and body replay the first response for 24 h.' })) });

/** Largest body a bulk call reads (JSON or NDJSON). */
export const BULK_BODY_LIMIT = 100 * 1024 * 1024;

/** Bulk upsert by external key and bulk disable (`users:write`). */
export function registerBulkRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/v1/users/bulk', {
    config: { auth: 'users:write', idempotent: true, bodyTypes: ['application/json', 'application/x-ndjson'] },
    bodyLimit: BULK_BODY_LIMIT,
    schema: {
      tags, summary: 'Create and update many users by external key', operationId: 'bulkUpsertUsers',
      description:
        `Up to ${MAX_BULK_ROWS} rows, each identified by (origin, key): the user's external id for that origin. Only the fields a row sends change (JSON Merge Patch); ` +
        'references (manager, position, area, groups, roles, organizations, environments) name their target by id, name (organizations: code) or external key, and a manager may be another row of the request, in any order. ' +
        'Each row is applied whole or not at all and fails alone; rows that change nothing write nothing. `dryRun` answers the same without writing. Honours Idempotency-Key. ' +
        `More than ${MAX_BULK_ROWS} rows, or \`?async=true\`: 202 with a job (GET /v1/jobs/{id}; per-row results at GET /v1/jobs/{id}/results). ` +
        'The body may also be `application/x-ndjson`: one row per line, with origin, mode and dryRun in the query string.',
      headers: IdempotencyHeaders,
      body: BulkUpsertBody,
      querystring: BulkUpsertQuery,
      response: { 200: BulkUpsertResponse, 202: JobSchema, ...problemResponses(400, 413, 415) },
    },
  }, async (req, reply) => {
    const ndjson = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() === 'application/x-ndjson';
    const fromQuery = (['origin', 'mode', 'dryRun'] as const).filter((name) => req.query[name] !== undefined);
    if (!ndjson && fromQuery.length > 0) {
      throw new AppError('request.validation_failed', `${fromQuery.join(', ')} go in the JSON body; the query string carries them only for an application/x-ndjson body.`, fromQuery.map((name) => ({ field: `/querystring/${name}`, message: 'belongs in the body' })));
    }
    const { origin, mode = 'upsert', dryRun = false, users } = req.body;
    const request = { origin, mode, dryRun, rows: users as Record<string, unknown>[] };
    if (req.query.async || users.length > MAX_BULK_ROWS) {
      const job = await services.bulk.startAsync(req.principal, request);
      return reply.code(202).header('location', `/v1/jobs/${job.id}`).send(presentJob(job));
    }
    const result = await services.bulk.upsert(req.principal, request);
    return reply.code(200).send(presentBulkUpsert(result, users.map((u) => u.key), req.id));
  });

  app.get('/v1/jobs/:id/results', {
    config: { auth: 'users:read' },
    schema: {
      tags, summary: 'The per-row results of an asynchronous bulk upsert', operationId: 'listBulkJobResults',
      description: 'One result per row in row order (null status while the row is not written yet); filter by status.',
      params: IdParams, querystring: BulkResultsQuery,
      response: { 200: pageOf(BulkJobResultSchema), ...problemResponses(400, 404) },
    },
  }, async (req) => {
    const query = idPageQuery('bulk-results', req.query, { job: req.params.id, status: req.query.status });
    const job = await services.jobs.get(req.principal, req.params.id);
    // The cursor carries the filter: `?cursor=` alone pages the same status.
    const rows = await services.bulk.results(req.principal, job, { status: query.params.status, afterSeq: positionAfter(query), limit: query.size + 1 });
    const page = rows.slice(0, query.size);
    const last = page.at(-1);
    return {
      items: page.map((r) => ({ index: r.index, key: r.key, id: r.userId, status: r.status, error: (r.error ?? null) as never })),
      nextCursor: rows.length > query.size && last ? encodeIdCursor(query, String(last.index + 1)) : null,
    };
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
