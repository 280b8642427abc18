import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../services/container.js';
import { USER_JOB_TYPES } from '../../domain/job.js';
import { hasScope } from '../../domain/principal.js';
import { AppError } from '../../errors/app-error.js';
import { ODATA_QUERY } from '../odata-query.js';
import { encodeIdCursor, idPageQuery } from '../id-cursor.js';
import { SelectQuery, pickFields, selectedFields, withSelection } from '../select.js';
import { presentJob } from '../presenters/job-presenter.js';
import { IdParams, pageOf, problemResponses } from '../schemas/common-schemas.js';
import { JobListQuery, JobSchema } from '../schemas/job-schemas.js';

/** What `$select` may name on GET /v1/jobs/{id}. */
const JOB_FIELDS = Object.keys(JobSchema.properties);

/** Background jobs of the caller's tenant (read-only): the `admin` scope. */
export function registerJobRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/v1/jobs', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Jobs'],
      summary: 'List background jobs, newest first',
      operationId: 'listJobs', description: 'Jobs of the tenant (imports, housekeeping, …) with their status, a page at a time; filter by status or type.',
      querystring: JobListQuery,
      response: { 200: pageOf(JobSchema), ...problemResponses(400) },
    },
  }, async (req) => {
    const query = idPageQuery('jobs', req.query, { status: req.query.status, type: req.query.type });
    const { status, type } = query.params;
    const page = await services.jobs.list(req.principal, { limit: query.size, cursor: query.after, status, type });
    return { items: page.items.map(presentJob), nextCursor: page.nextCursor === null ? null : encodeIdCursor(query, page.nextCursor) };
  });

  app.get('/v1/jobs/:id', {
    config: { auth: 'users:read', ...ODATA_QUERY },
    schema: {
      tags: ['Jobs'],
      summary: 'Get a background job: status, attempts, timings, last error, progress',
      operationId: 'getJob', description: 'Poll it to follow a job: status, attempts, timings, the last error and progress. users:read may read bulk upsert and sync apply jobs; other jobs need admin.',
      params: IdParams,
      querystring: SelectQuery,
      response: { 200: JobSchema, ...problemResponses(400, 403, 404) },
    },
  }, async (req, reply) => {
    const select = selectedFields(req.query, JOB_FIELDS);
    const job = await services.jobs.get(req.principal, req.params.id);
    // users:read follows the jobs user writes start (bulk upserts, sync applies); the rest is for admins.
    if (!USER_JOB_TYPES.includes(job.type) && !hasScope(req.principal.scopes, 'admin')) {
      throw new AppError('auth.insufficient_scope', `This job can be read with the admin scope only; the token has: ${req.principal.scopes.join(' ') || 'none'}.`);
    }
    return withSelection(reply, select).send(pickFields(presentJob(job), select));
  });
}
