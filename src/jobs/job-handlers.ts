import type { Job, NewJob } from '../domain/job.js';
import type { Clock } from '../lib/clock.js';
import type { Store } from '../repositories/store.js';
import type { Services } from '../services/container.js';
import { HOUSEKEEPING_JOB, housekeepingHandler } from './housekeeping-job.js';
import { BULK_UPSERT_JOB, SYNC_APPLY_JOB } from '../domain/job.js';

/** What a handler gets besides its job. */
export interface JobContext {
  store: Store;
  clock: Clock;
  /**
   * Aborted when the runner lost the job's lease (another runner may be running it now) or is
   * shutting down past its grace period: long handlers check it between steps and stop.
   */
  signal: AbortSignal;
  /** Stores any JSON as the job's progress (shown by GET /v1/jobs/{id}); throws if the lease was lost. */
  progress(progress: unknown): Promise<void>;
  /**
   * Enqueues `job` in the same transaction that marks this job succeeded (nothing if it fails).
   * A recurring job schedules its next run this way: its unique key is free again by then.
   */
  followUp(job: NewJob): void;
}

/**
 * Runs one attempt of a job; what it returns (JSON) is stored as the job's result. Throwing
 * fails the attempt: the runner retries with exponential backoff up to the job's maxAttempts.
 * An attempt may run again after a crash, so handlers must be idempotent (at-least-once).
 */
export type JobHandler = (job: Job, ctx: JobContext) => Promise<unknown>;

export type JobHandlers = ReadonlyMap<string, JobHandler>;

/**
 * The one place job types are registered. A new job type: write its handler (in src/jobs,
 * `<name>-job.ts`), add it here, and enqueue it from a service with `deps.queue.enqueue(repos, …)`.
 */
export function jobHandlers(services: Services): JobHandlers {
  return new Map<string, JobHandler>([
    [HOUSEKEEPING_JOB, housekeepingHandler(services)],
    [SYNC_APPLY_JOB, (job, ctx) => services.sync.runApplyJob(job, ctx.progress, ctx.signal)],
    [BULK_UPSERT_JOB, (job, ctx) => services.bulk.runAsyncJob(job, ctx.progress)],
  ]);
}
