import { DEFAULT_MAX_ATTEMPTS, type Job, type NewJob } from '../domain/job.js';
import { isoNow, type Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import type { Repositories } from '../repositories/store.js';

/**
 * How services enqueue work. `repos` are those of the caller's transaction
 * (`store.transaction(repos => …)`), so the job commits or rolls back with the change that
 * causes it. With a `uniqueKey` held by an unfinished job, the existing job is returned and
 * nothing is inserted. Injected (ServiceDeps.queue) so tests can record instead of writing.
 */
export interface JobQueue {
  enqueue(repos: Repositories, job: NewJob): Promise<Job>;
}

/** The queue of a running Roster: rows in its own `jobs` table. */
export class DatabaseJobQueue implements JobQueue {
  constructor(private readonly clock: Clock) {}

  async enqueue(repos: Repositories, job: NewJob): Promise<Job> {
    const created = buildJob(job, isoNow(this.clock));
    const { job: stored } = await repos.jobs.insert(created);
    // Unique keys are global; a key naming another tenant's job is a bug in the caller's key.
    if (stored.tenantId !== created.tenantId) throw new Error(`job unique key ${job.uniqueKey} belongs to a job of another tenant`);
    return stored;
  }
}

/** A queued job as first stored: not yet attempted, due at `runAt` (default `now`). */
export function buildJob(job: NewJob, now: string): Job {
  const maxAttempts = job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`maxAttempts must be a whole number ≥ 1, got ${maxAttempts}`);
  return {
    id: newId(),
    tenantId: job.tenantId ?? null,
    type: job.type,
    payload: job.payload ?? null,
    status: 'queued',
    uniqueKey: job.uniqueKey ?? null,
    runAt: job.runAt !== undefined ? new Date(job.runAt).toISOString() : now,
    attempts: 0,
    maxAttempts,
    leaseOwner: null,
    leaseExpiresAt: null,
    lastError: null,
    progress: null,
    result: null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
  };
}
