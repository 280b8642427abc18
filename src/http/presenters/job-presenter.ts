import type { Static } from '@sinclair/typebox';
import type { Job } from '../../domain/job.js';
import type { JobSchema } from '../schemas/job-schemas.js';

/** Leaves out the payload (internal, may hold secrets), the tenant, the unique key and the lease. */
export const presentJob = (job: Job): Static<typeof JobSchema> => ({
  id: job.id,
  type: job.type,
  status: job.status,
  attempts: job.attempts,
  maxAttempts: job.maxAttempts,
  runAt: job.runAt,
  createdAt: job.createdAt,
  startedAt: job.startedAt,
  finishedAt: job.finishedAt,
  updatedAt: job.updatedAt,
  lastError: job.lastError,
  progress: job.progress ?? null,
  result: job.result ?? null,
});
