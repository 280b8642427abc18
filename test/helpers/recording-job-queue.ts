import type { Job, NewJob } from '../../src/domain/job.js';
import { buildJob, type JobQueue } from '../../src/jobs/job-queue.js';
import type { Repositories } from '../../src/repositories/store.js';

/**
 * A JobQueue for service tests: records what was enqueued and writes nothing, so a test asserts
 * "job X queued for user Y" without running it. Unique keys behave as in the database while
 * the recorded job is unfinished (they all are: nothing runs them).
 */
export class RecordingJobQueue implements JobQueue {
  readonly jobs: Job[] = [];

  async enqueue(_repos: Repositories, job: NewJob): Promise<Job> {
    const held = job.uniqueKey !== undefined ? this.jobs.find((j) => j.uniqueKey === job.uniqueKey) : undefined;
    if (held) return held;
    const recorded = buildJob(job, new Date().toISOString());
    this.jobs.push(recorded);
    return recorded;
  }

  /** The recorded jobs of one type. */
  ofType(type: string): Job[] {
    return this.jobs.filter((j) => j.type === type);
  }
}
