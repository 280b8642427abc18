import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { BACKOFF_BASE_MS, MAX_ERROR_LENGTH, type Job, type NewJob } from '../../src/domain/job.js';
import { HOUSEKEEPING_JOB, keepHousekeepingScheduled, scheduleHousekeeping } from '../../src/jobs/housekeeping-job.js';
import type { JobHandler } from '../../src/jobs/job-handlers.js';
import type { JobRunnerOptions } from '../../src/jobs/job-runner.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { TestClock } from '../helpers/test-app.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { RecordingJobQueue } from '../helpers/recording-job-queue.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let runtime: Runtime;
const clock = new TestClock();
const everyone = { tenantId: 'default', includeSystem: true };

beforeAll(async () => {
  database = await createTestDatabase();
  runtime = await openRuntime(loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent' }), { clock });
});
afterAll(async () => {
  await runtime?.close();
  await database?.drop();
});

let seq = 0;
/** A job type of this test only: runners in one test never see another test's jobs. */
const uniqueType = (name: string) => `test.${name}.${++seq}`;

const enqueue = (job: NewJob): Promise<Job> => runtime.services.store.transaction((repos) => runtime.services.queue.enqueue(repos, job));
const find = async (id: string): Promise<Job> => {
  const job = await runtime.services.store.repos.jobs.findById(everyone, id);
  if (!job) throw new Error(`job ${id} not found`);
  return job;
};
const runner = (type: string, handler: JobHandler | undefined, options: Partial<JobRunnerOptions> = {}) =>
  runtime.jobRunner({ handlers: new Map(handler ? [[type, handler]] : []), types: [type], ...options });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(probe: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

describe('enqueueing', () => {
  it('is idempotent by unique key while the job is unfinished, also when enqueued concurrently', async () => {
    const type = uniqueType('unique');
    const jobs = await Promise.all(Array.from({ length: 6 }, () => enqueue({ type, payload: { n: 1 }, uniqueKey: `key-${type}` })));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(1);
    expect(await runtime.services.store.repos.jobs.list(everyone, { type, limit: 10 })).toHaveLength(1);

    // Once finished, the key is free again: the next run of a recurring job.
    await runner(type, async () => 'done').runDue();
    const next = await enqueue({ type, payload: { n: 2 }, uniqueKey: `key-${type}` });
    expect(next.id).not.toBe(jobs[0]?.id);
    expect(next.status).toBe('queued');
  });

  it('rolls back with the transaction that enqueued it', async () => {
    const type = uniqueType('rollback');
    await expect(
      runtime.services.store.transaction(async (repos) => {
        await runtime.services.queue.enqueue(repos, { type, payload: {} });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await runtime.services.store.repos.jobs.list(everyone, { type, limit: 10 })).toEqual([]);
  });

  it('is an injected dependency: a recording queue lets a test see what was queued, with nothing written', async () => {
    const recording = new RecordingJobQueue();
    const isolated = await openRuntime(loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent' }), { clock, queue: recording });
    try {
      const before = await isolated.services.store.repos.jobs.list(everyone, { type: HOUSEKEEPING_JOB, limit: 10 });
      await scheduleHousekeeping(isolated.services);
      expect(recording.ofType(HOUSEKEEPING_JOB)).toHaveLength(1);
      expect(await isolated.services.store.repos.jobs.list(everyone, { type: HOUSEKEEPING_JOB, limit: 10 })).toEqual(before);
    } finally {
      await isolated.close();
    }
  });
});

describe('running', () => {
  it('runs a due job once and records its result and timings', async () => {
    const type = uniqueType('once');
    const calls: string[] = [];
    const job = await enqueue({ type, payload: { userId: 'u1' } });
    const later = await enqueue({ type, payload: { userId: 'u2' }, runAt: new Date(clock.now().getTime() + 60_000).toISOString() });
    const r = runner(type, async (j) => {
      calls.push((j.payload as { userId: string }).userId);
      return { provisioned: true };
    });
    expect(await r.runDue()).toBe(1);
    expect(await r.runDue()).toBe(0);
    expect(calls).toEqual(['u1']);
    const done = await find(job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, result: { provisioned: true }, lastError: null, leaseOwner: null });
    expect(done.startedAt).not.toBeNull();
    expect(Date.parse(done.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(done.startedAt ?? ''));
    expect((await find(later.id)).status).toBe('queued');

    clock.advance(61);
    expect(await r.runDue()).toBe(1);
    expect(calls).toEqual(['u1', 'u2']);
  });

  it('retries a failing job with exponential backoff, then marks it dead with the last error (clipped)', async () => {
    const type = uniqueType('retry');
    let attempt = 0;
    const r = runner(type, async () => {
      attempt++;
      throw new Error(attempt < 3 ? `directory unreachable (${attempt})` : 'x'.repeat(10_000));
    });
    const job = await enqueue({ type, payload: {}, maxAttempts: 3 });

    expect(await r.runDue()).toBe(1);
    let state = await find(job.id);
    expect(state).toMatchObject({ status: 'queued', attempts: 1, lastError: 'Error: directory unreachable (1)', finishedAt: null });
    const firstDelay = Date.parse(state.runAt) - Date.parse(state.updatedAt);
    expect(firstDelay).toBeGreaterThanOrEqual(BACKOFF_BASE_MS - 50);
    expect(firstDelay).toBeLessThanOrEqual(BACKOFF_BASE_MS + 50);
    expect(await r.runDue()).toBe(0); // not due before its backoff ends

    clock.advance(BACKOFF_BASE_MS / 1000);
    expect(await r.runDue()).toBe(1);
    state = await find(job.id);
    expect(state).toMatchObject({ status: 'queued', attempts: 2, lastError: 'Error: directory unreachable (2)' });
    const secondDelay = Date.parse(state.runAt) - Date.parse(state.updatedAt);
    expect(secondDelay).toBeGreaterThanOrEqual(2 * BACKOFF_BASE_MS - 50); // twice the first

    clock.advance((2 * BACKOFF_BASE_MS) / 1000);
    expect(await r.runDue()).toBe(1);
    state = await find(job.id);
    expect(state).toMatchObject({ status: 'dead', attempts: 3 });
    expect(state.lastError?.length).toBe(MAX_ERROR_LENGTH);
    expect(state.finishedAt).not.toBeNull();

    clock.advance(3600);
    expect(await r.runDue()).toBe(0); // dead is final
    expect(attempt).toBe(3);
  });

  it('marks a job of a type without a handler dead at once, saying so', async () => {
    const type = uniqueType('unknown');
    const job = await enqueue({ type, payload: {} });
    expect(await runner(type, undefined).runDue()).toBe(1);
    expect(await find(job.id)).toMatchObject({ status: 'dead', attempts: 1, lastError: `no handler is registered for job type '${type}'` });
  });

  it('leaves a job of a type it has no handler for queued when it was not told to claim that type (a rolling deploy)', async () => {
    const type = uniqueType('newer');
    const job = await enqueue({ type, payload: {} });
    const older = runtime.jobRunner({ handlers: new Map([[uniqueType('known'), async () => undefined]]) });
    expect(await older.runDue()).toBe(0);
    expect(await find(job.id)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(await runner(type, async () => 'done').runDue()).toBe(1);
    expect(await find(job.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('reclaims a job whose runner died once its lease expired, and refuses the late outcome of the first runner', async () => {
    const type = uniqueType('lease');
    const job = await enqueue({ type, payload: {} });
    const repos = runtime.services.store.repos;
    const now = clock.now();
    // Runner A claims and then never finishes (it was killed).
    const claimed = await runtime.services.store.transaction((r) =>
      r.jobs.claim({ owner: 'runner-a', now: now.toISOString(), leaseExpiresAt: new Date(now.getTime() + 30_000).toISOString(), limit: 5, types: [type] }),
    );
    expect(claimed.map((j) => j.id)).toEqual([job.id]);

    const b = runner(type, async () => 'done by b', { owner: 'runner-b' });
    expect(await b.runDue()).toBe(0); // the lease still holds
    clock.advance(31);
    expect(await b.runDue()).toBe(1);
    expect(await find(job.id)).toMatchObject({ status: 'succeeded', attempts: 2, result: 'done by b' });

    // Runner A wakes up: every write it tries is refused (affected-row check), nothing changes.
    const at = clock.now().toISOString();
    expect(await repos.jobs.complete(job.id, 'runner-a', 'done by a', at)).toBe(false);
    expect(await repos.jobs.fail(job.id, 'runner-a', 'late failure', at)).toBe(false);
    expect(await repos.jobs.retry(job.id, 'runner-a', at, 'late failure', at)).toBe(false);
    expect(await repos.jobs.heartbeat(job.id, 'runner-a', at, at)).toBe(false);
    expect(await find(job.id)).toMatchObject({ status: 'succeeded', result: 'done by b', lastError: null });
  });

  it('marks a job dead when its last attempt never finished', async () => {
    const type = uniqueType('last-lease');
    const job = await enqueue({ type, payload: {}, maxAttempts: 1 });
    const now = clock.now();
    await runtime.services.store.transaction((r) =>
      r.jobs.claim({ owner: 'crashed', now: now.toISOString(), leaseExpiresAt: new Date(now.getTime() + 1000).toISOString(), limit: 1, types: [type] }),
    );
    clock.advance(2);
    let ran = false;
    expect(await runner(type, async () => (ran = true)).runDue()).toBe(1);
    expect(ran).toBe(false);
    const dead = await find(job.id);
    expect(dead).toMatchObject({ status: 'dead', attempts: 2 });
    expect(dead.lastError).toBe('attempt 1 of 1 never finished (its runner stopped and the lease expired)');
  });

  it('keeps the lease of a long job alive with heartbeats, so no other runner takes it', async () => {
    const type = uniqueType('heartbeat');
    const job = await enqueue({ type, payload: {} });
    let started = false;
    const r = runner(
      type,
      async (_j, ctx) => {
        started = true;
        await ctx.progress({ done: 1, total: 2 });
        await sleep(3000); // three leases long
        await ctx.progress({ done: 2, total: 2 });
        return 'finished';
      },
      { leaseMs: 1000, heartbeatMs: 200 }, // four heartbeats may be late before the lease ends
    );
    const running = r.runDue();
    await waitFor(async () => started);
    await sleep(1500); // past the first lease
    const now = clock.now();
    const stolen = await runtime.services.store.transaction((t) =>
      t.jobs.claim({ owner: 'intruder', now: now.toISOString(), leaseExpiresAt: new Date(now.getTime() + 60_000).toISOString(), limit: 1, types: [type] }),
    );
    expect(stolen).toEqual([]);
    const mid = await find(job.id);
    expect(mid).toMatchObject({ status: 'running', leaseOwner: r.owner, progress: { done: 1, total: 2 } });
    expect(Date.parse(mid.leaseExpiresAt ?? '')).toBeGreaterThan(now.getTime());
    await running;
    expect(await find(job.id)).toMatchObject({ status: 'succeeded', attempts: 1, result: 'finished', progress: { done: 2, total: 2 } });
  });

  it('runs jobs in the background once started, and stop() waits for the running ones', async () => {
    const type = uniqueType('background');
    const r = runner(type, async (j) => {
      await sleep(50);
      return (j.payload as { n: number }).n * 2;
    }, { pollMs: 20, concurrency: 3 });
    r.start();
    const jobs = await Promise.all(Array.from({ length: 8 }, (_, n) => enqueue({ type, payload: { n } })));
    await waitFor(async () => (await runtime.services.store.repos.jobs.list(everyone, { type, status: 'succeeded', limit: 20 })).length === 8);
    for (const [n, job] of jobs.entries()) expect((await find(job.id)).result).toBe(n * 2);

    const slow = await enqueue({ type, payload: { n: 21 } });
    await waitFor(async () => (await find(slow.id)).status !== 'queued');
    await r.stop();
    expect(await find(slow.id)).toMatchObject({ status: 'succeeded', result: 42 });
  });
});

describe('housekeeping', () => {
  it('is one job however many processes schedule it, and schedules its next run when it succeeds', async () => {
    await Promise.all([scheduleHousekeeping(runtime.services), scheduleHousekeeping(runtime.services)]);
    const [first, ...others] = await runtime.services.store.repos.jobs.list(everyone, { type: HOUSEKEEPING_JOB, limit: 10 });
    expect(others).toEqual([]);
    expect(first).toMatchObject({ status: 'queued', tenantId: null });

    expect(await runtime.jobRunner({ types: [HOUSEKEEPING_JOB] }).runDue()).toBe(1);
    const [next, done] = await runtime.services.store.repos.jobs.list(everyone, { type: HOUSEKEEPING_JOB, limit: 10 });
    expect(done).toMatchObject({ id: first?.id, status: 'succeeded' });
    expect(next?.status).toBe('queued');
    const interval = Date.parse(next?.runAt ?? '') - Date.parse(done?.finishedAt ?? '');
    expect(interval).toBeGreaterThan(14 * 60_000);
    expect(interval).toBeLessThanOrEqual(15 * 60_000);
  });

  it('comes back by itself after it died: the periodic check schedules it again, and adds nothing while one is queued', async () => {
    const repos = runtime.services.store.repos;
    const housekeeping = () => repos.jobs.list(everyone, { type: HOUSEKEEPING_JOB, limit: 50 });
    // Kill every housekeeping job (as if its attempts were used up while the database was away).
    await sql`update jobs set status = 'dead', last_error = 'killed by the test' where type = ${HOUSEKEEPING_JOB}`.execute(runtime.database.db);
    expect((await housekeeping()).filter((j) => j.status === 'queued')).toEqual([]);
    const warnings: unknown[] = [];
    const stop = await keepHousekeepingScheduled(runtime.services, { warn: (details) => void warnings.push(details) }, 50);
    try {
      expect((await housekeeping()).filter((j) => j.status === 'queued')).toHaveLength(1);
      await sleep(250); // several periodic checks: still one queued job
      expect((await housekeeping()).filter((j) => j.status === 'queued')).toHaveLength(1);
      expect(warnings).toEqual([]);
    } finally {
      stop();
    }
  });
});
