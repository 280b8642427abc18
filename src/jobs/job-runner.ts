import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { backoffMs, describeJobError, type Job, type NewJob } from '../domain/job.js';
import type { Clock } from '../lib/clock.js';
import type { Repositories, Store } from '../repositories/store.js';
import type { JobContext, JobHandlers } from './job-handlers.js';
import type { JobQueue } from './job-queue.js';

/** The few log calls the runner makes (pino and Fastify's logger fit). */
export interface JobLog {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface JobRunnerOptions {
  store: Store;
  clock: Clock;
  /** Used for the follow-up jobs handlers ask for. */
  queue: JobQueue;
  handlers: JobHandlers;
  /** Stored as lease_owner; defaults to host:pid:random, unique per runner. */
  owner?: string;
  /** Wait between claims when no job is due, in milliseconds (default 1000). */
  pollMs?: number;
  /** Jobs run at the same time by this runner (default 2). */
  concurrency?: number;
  /** Lease granted per claim and per heartbeat, in milliseconds (default 30 000). */
  leaseMs?: number;
  /** Heartbeat interval in milliseconds (default leaseMs / 3: two heartbeats may fail before the lease ends). */
  heartbeatMs?: number;
  /**
   * Claim only these types. Default: the types of `handlers`, so in a rolling deploy an older
   * process leaves a job type it does not know queued for a newer one instead of killing it.
   * A type named here without a handler dies at once.
   */
  types?: readonly string[];
  log?: JobLog;
}

interface Running {
  done: Promise<void>;
  controller: AbortController;
  heartbeat: NodeJS.Timeout;
}

class LeaseLostError extends Error {
  constructor(job: Job) {
    super(`lease on job ${job.id} was lost (it expired and another runner may have taken the job)`);
    this.name = 'LeaseLostError';
  }
}

const silentLog: JobLog = { warn: () => undefined, error: () => undefined };

/**
 * Runs durable jobs (see docs/ARCHITECTURE.md, "Jobs"). Claims due jobs with a lease, runs their
 * handler, keeps the lease alive with heartbeats, and records the outcome: succeeded with the
 * handler's result; on a thrown error queued again after `backoffMs(attempts)`, or dead with the
 * last error once `maxAttempts` attempts were made. Every outcome is a write conditional on still
 * holding the lease, so a runner that stalled past its lease cannot overwrite the outcome of the
 * runner that took the job over. Any number of runners (processes) may share one database.
 * All writes go through `store.transaction` (on SQLite: the group commit, the single writer).
 */
export class JobRunner {
  readonly owner: string;
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly log: JobLog;
  private readonly running = new Map<string, Running>();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: JobRunnerOptions) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.pollMs = options.pollMs ?? 1000;
    this.concurrency = options.concurrency ?? 2;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.floor(this.leaseMs / 3));
    this.log = options.log ?? silentLog;
    if (!(this.concurrency >= 1) || !(this.pollMs >= 1) || !(this.heartbeatMs < this.leaseMs)) {
      throw new Error('JobRunner: concurrency and pollMs must be ≥ 1, and heartbeatMs shorter than leaseMs');
    }
  }

  /** Starts polling in the background; returns at once. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.poll();
  }

  /**
   * Stops claiming, then waits up to `timeoutMs` for running jobs to finish. Jobs still running
   * after that are aborted (their signal) and their heartbeats stopped: their leases expire and
   * another runner retries them.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled([...this.running.values()].map((r) => r.done)), timeout]);
    clearTimeout(timer);
    for (const job of this.running.values()) {
      clearInterval(job.heartbeat);
      job.controller.abort(new Error('the job runner is shutting down'));
    }
  }

  /**
   * Claims what is due (up to the free slots) and runs it to its outcome; returns how many jobs
   * ran. For tests and one-shot commands; `start()` does this continuously.
   */
  async runDue(): Promise<number> {
    const jobs = await this.claim(this.concurrency - this.running.size);
    await Promise.all(jobs.map((job) => this.launch(job)));
    return jobs.length;
  }

  private async poll(): Promise<void> {
    while (!this.stopping) {
      try {
        for (const job of await this.claim(this.concurrency - this.running.size)) void this.launch(job);
      } catch (error) {
        this.log.warn({ err: error }, 'claiming jobs failed; will retry');
      }
      // Sleep a poll interval; a job finishing wakes the loop early to fill its slot.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async claim(slots: number): Promise<Job[]> {
    if (slots <= 0) return [];
    const now = this.options.clock.now();
    return this.write((repos) =>
      repos.jobs.claim({ owner: this.owner, now: now.toISOString(), leaseExpiresAt: this.leaseEnd(now), limit: slots, types: this.options.types ?? [...this.options.handlers.keys()] }),
    );
  }

  private launch(job: Job): Promise<void> {
    const controller = new AbortController();
    const heartbeat = setInterval(() => void this.heartbeat(job, controller), this.heartbeatMs);
    const done = this.execute(job, controller)
      .catch((error: unknown) => {
        this.log.error({ err: error, jobId: job.id }, 'recording a job outcome failed; the job will be retried when its lease expires');
      })
      .finally(() => {
        clearInterval(heartbeat);
        this.running.delete(job.id);
        this.wake?.();
      });
    this.running.set(job.id, { done, controller, heartbeat });
    return done;
  }

  private async execute(job: Job, controller: AbortController): Promise<void> {
    const { clock, store, handlers } = this.options;
    const handler = handlers.get(job.type);
    if (!handler) return this.record(job, (repos, now) => repos.jobs.fail(job.id, this.owner, `no handler is registered for job type '${job.type}'`, now));
    if (job.attempts > job.maxAttempts) {
      const reason = `attempt ${job.attempts - 1} of ${job.maxAttempts} never finished (its runner stopped and the lease expired)`;
      return this.record(job, (repos, now) => repos.jobs.fail(job.id, this.owner, reason, now));
    }
    const followUps: NewJob[] = [];
    const context: JobContext = {
      store,
      clock,
      signal: controller.signal,
      progress: async (progress) => {
        const held = await this.write((repos) => repos.jobs.progress(job.id, this.owner, progress, clock.now().toISOString()));
        if (!held) throw new LeaseLostError(job);
      },
      followUp: (next) => void followUps.push(next),
    };
    let outcome: { ok: true; result: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, result: await handler(job, context) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    if (outcome.ok) {
      const { result } = outcome;
      return this.record(job, async (repos, now) => {
        if (!(await repos.jobs.complete(job.id, this.owner, result, now))) return false;
        for (const next of followUps) await this.options.queue.enqueue(repos, next);
        return true;
      });
    }
    const lastError = describeJobError(outcome.error);
    if (job.attempts >= job.maxAttempts) return this.record(job, (repos, now) => repos.jobs.fail(job.id, this.owner, lastError, now));
    const runAt = new Date(clock.now().getTime() + backoffMs(job.attempts)).toISOString();
    return this.record(job, (repos, now) => repos.jobs.retry(job.id, this.owner, runAt, lastError, now));
  }

  /** Writes an outcome; a lost lease means another runner owns the job now, so ours is dropped. */
  private async record(job: Job, write: (repos: Repositories, now: string) => Promise<boolean>): Promise<void> {
    const applied = await this.write((repos) => write(repos, this.options.clock.now().toISOString()));
    if (!applied) this.log.warn({ jobId: job.id, type: job.type, owner: this.owner }, 'job outcome discarded: the lease was lost to another runner');
  }

  private async heartbeat(job: Job, controller: AbortController): Promise<void> {
    const now = this.options.clock.now();
    try {
      const held = await this.write((repos) => repos.jobs.heartbeat(job.id, this.owner, this.leaseEnd(now), now.toISOString()));
      if (!held && !controller.signal.aborted) controller.abort(new LeaseLostError(job));
    } catch (error) {
      // One failed heartbeat is not fatal: the lease outlives two missed ones.
      this.log.warn({ err: error, jobId: job.id }, 'job heartbeat failed');
    }
  }

  private leaseEnd(now: Date): string {
    return new Date(now.getTime() + this.leaseMs).toISOString();
  }

  private write<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.options.store.transaction(work);
  }
}
