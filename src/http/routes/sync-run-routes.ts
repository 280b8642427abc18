import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { SyncItem, SyncOptions, SyncRun } from '../../domain/sync-run.js';
import type { Principal } from '../../domain/principal.js';
import type { Services } from '../../services/container.js';
import { encodeIdCursor, idPageQuery, positionAfter } from '../id-cursor.js';
import { presentSyncItem, presentSyncRun } from '../presenters/sync-run-presenter.js';
import { IdParams, pageOf, problemResponses } from '../schemas/common-schemas.js';
import {
  AppendRowsBody, ApplyQuery, AutoApplyQuery, CreateSyncRunBody, ReceivedSchema, SyncItemSchema, SyncItemsQuery, SyncRunListQuery, SyncRunSchema,
} from '../schemas/sync-run-schemas.js';
import { BULK_BODY_LIMIT } from './bulk-routes.js';

const tags = ['Sync runs'];

/**
 * Directory sync runs (`users:write` to create, plan, apply and discard; `users:read` to look):
 * a source's complete list, planned, reviewed and applied as a job.
 */
export function registerSyncRunRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { sync } = services;

  /** With autoApply, a plan that is not held goes straight to its apply job (202). */
  const maybeApply = async (principal: Principal, run: SyncRun, autoApply: boolean | undefined): Promise<{ run: SyncRun; status: 200 | 201 | 202 }> =>
    autoApply && run.status === 'planned' ? { run: await sync.apply(principal, run.id, false), status: 202 } : { run, status: run.status === 'receiving' ? 201 : 200 };

  app.post('/v1/sync-runs', {
    config: { auth: 'users:write', idempotent: true },
    bodyLimit: BULK_BODY_LIMIT,
    schema: {
      tags, summary: 'Start a directory sync run with a source\'s complete list', operationId: 'createSyncRun',
      description:
        'The snapshot is the complete, authoritative list of the people of `origin`. Without `staged`, the run is planned at once (200, status planned or held); ' +
        'with `staged: true` it is created `receiving` (201): send more rows with POST /v1/sync-runs/{id}/users, then POST /v1/sync-runs/{id}/plan. ' +
        '`autoApply=true` applies a plan that is not held at once (202).',
      body: CreateSyncRunBody,
      querystring: AutoApplyQuery,
      response: { 200: SyncRunSchema, 201: SyncRunSchema, 202: SyncRunSchema, ...problemResponses(400, 409, 413, 415) },
    },
  }, async (req, reply) => {
    const { origin, users = [], staged = false, missing = 'ignore', maxDeactivations = null, maxChanges = null } = req.body;
    const options: SyncOptions = { missing, maxDeactivations, maxChanges };
    const created = await sync.create(req.principal, { origin, options, rows: users as Record<string, unknown>[], staged });
    const { run, status } = await maybeApply(req.principal, created, req.query.autoApply);
    return reply.code(status === 202 ? 202 : 201).header('location', `/v1/sync-runs/${run.id}`).send(presentSyncRun(run));
  });

  app.post('/v1/sync-runs/:id/users', {
    config: { auth: 'users:write' },
    bodyLimit: BULK_BODY_LIMIT,
    schema: {
      tags, summary: 'Add rows to a staged sync run', operationId: 'addSyncRunRows',
      description: 'Only while the run is `receiving`; rows keep the order they arrive in.',
      params: IdParams, body: AppendRowsBody,
      response: { 200: ReceivedSchema, ...problemResponses(400, 404, 409, 413, 415) },
    },
  }, async (req) => {
    const run = await sync.appendRows(req.principal, req.params.id, req.body.users as Record<string, unknown>[]);
    return { id: run.id, received: run.received };
  });

  app.post('/v1/sync-runs/:id/plan', {
    config: { auth: 'users:write' },
    schema: {
      tags, summary: 'Plan a sync run (again)', operationId: 'planSyncRun',
      description: 'Plans a receiving run, or plans a planned or held one again against the directory as it is now.',
      params: IdParams, querystring: AutoApplyQuery,
      response: { 200: SyncRunSchema, 202: SyncRunSchema, ...problemResponses(404, 409) },
    },
  }, async (req, reply) => {
    const { run, status } = await maybeApply(req.principal, await sync.plan(req.principal, req.params.id), req.query.autoApply);
    return reply.code(status === 201 ? 200 : status).send(presentSyncRun(run));
  });

  app.get('/v1/sync-runs', {
    config: { auth: 'users:read' },
    schema: {
      tags, summary: 'List sync runs, newest first', operationId: 'listSyncRuns', description: 'Filter by status or origin.',
      querystring: SyncRunListQuery,
      response: { 200: pageOf(SyncRunSchema), ...problemResponses(400) },
    },
  }, async (req) => {
    const query = idPageQuery('sync-runs', req.query, { status: req.query.status, origin: req.query.origin });
    const runs = await sync.list(req.principal, { status: query.params.status as SyncRun['status'] | undefined, origin: query.params.origin, before: query.after, limit: query.size + 1 });
    const items = runs.slice(0, query.size);
    const last = items.at(-1);
    return { items: items.map(presentSyncRun), nextCursor: runs.length > query.size && last ? encodeIdCursor(query, last.id) : null };
  });

  app.get('/v1/sync-runs/:id', {
    config: { auth: 'users:read' },
    schema: {
      tags, summary: 'Get a sync run: status, counts, what was applied', operationId: 'getSyncRun', description: 'Poll it while the run is applying.',
      params: IdParams,
      response: { 200: SyncRunSchema, ...problemResponses(404) },
    },
  }, async (req) => presentSyncRun(await sync.get(req.principal, req.params.id)));

  app.get('/v1/sync-runs/:id/items', {
    config: { auth: 'users:read' },
    schema: {
      tags, summary: 'The items of a sync run\'s plan', operationId: 'listSyncRunItems',
      description: 'One item per snapshot row and per user of the origin it omits, with field-level before/after, warnings, errors and, once applied, the outcome. Filter by action.',
      params: IdParams, querystring: SyncItemsQuery,
      response: { 200: pageOf(SyncItemSchema), ...problemResponses(400, 404) },
    },
  }, async (req) => {
    const query = idPageQuery('sync-run-items', req.query, { run: req.params.id, action: req.query.action });
    // The cursor carries the filter: `?cursor=` alone pages the same action.
    const action = query.params.action as SyncItem['action'] | undefined;
    const items = await sync.items(req.principal, req.params.id, { action, afterSeq: positionAfter(query), limit: query.size + 1 });
    const page = items.slice(0, query.size);
    const last = page.at(-1);
    return { items: page.map(presentSyncItem), nextCursor: items.length > query.size && last ? encodeIdCursor(query, String(last.seq)) : null };
  });

  app.post('/v1/sync-runs/:id/apply', {
    config: { auth: 'users:write' },
    schema: {
      tags, summary: 'Apply a sync run\'s plan (as a job)', operationId: 'applySyncRun',
      description:
        'Applies exactly the plan: an item whose user changed after it was planned fails (sync_run.drift) instead of overwriting newer data. A held plan needs force=true. ' +
        'Answers 202 with the run (status applying, jobId); poll GET /v1/sync-runs/{id}.',
      params: IdParams, querystring: ApplyQuery,
      response: { 202: SyncRunSchema, ...problemResponses(404, 409) },
    },
  }, async (req, reply) => reply.code(202).send(presentSyncRun(await sync.apply(req.principal, req.params.id, req.query.force ?? false))));

  app.delete('/v1/sync-runs/:id', {
    config: { auth: 'users:write' },
    schema: {
      tags, summary: 'Discard a sync run', operationId: 'discardSyncRun', description: 'Its rows and plan are deleted; a run being applied cannot be discarded.',
      params: IdParams,
      response: { 204: Type.Null({ description: 'Discarded.' }), ...problemResponses(404, 409) },
    },
  }, async (req, reply) => {
    await sync.discard(req.principal, req.params.id);
    return reply.code(204).send(null);
  });
}
