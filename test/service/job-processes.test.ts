import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import type { Job, NewJob } from '../../src/domain/job.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createTestDatabase, testDialect } from '../helpers/test-database.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let runtime: Runtime;
const workers: ChildProcess[] = [];
const everyone = { tenantId: 'default', includeSystem: true };

beforeAll(async () => {
  database = await createTestDatabase();
  runtime = await openRuntime(loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent' }));
  await sql`create table job_runs (job_id text not null, owner text not null, started_ms bigint not null, ended_ms bigint not null)`
    .execute(runtime.database.db);
  await sql`create table job_meets (owner text not null)`.execute(runtime.database.db);
});
afterAll(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await runtime?.close();
  await database?.drop();
});

/** Starts test/helpers/job-worker-process.ts; resolves once it prints `ready`. `lines` gets every later line. */
function startWorker(owner: string, env: Record<string, string>, lines: (line: string) => void = () => undefined): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/job-worker-process.ts'], {
    env: { ...process.env, DATABASE_URL: database.url, WORKER_OWNER: owner, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  workers.push(child);
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line === 'ready') resolve(child);
        else lines(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`worker ${owner} exited (${code}) before it was ready`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
const enqueueAll = (jobs: NewJob[]): Promise<Job[]> =>
  runtime.services.store.transaction(async (repos) => Promise.all(jobs.map((job) => runtime.services.queue.enqueue(repos, job))));
const find = async (id: string) => (await runtime.services.store.repos.jobs.findById(everyone, id)) as Job;
async function waitFor(probe: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// SQLite is one server process by design (one writer, one file); the PostgreSQL project of the
// same file runs this in CI, where vitest.config.ts refuses to run without PostgreSQL.
describe.skipIf(testDialect() === 'sqlite')('two runner processes on one PostgreSQL (skipped on SQLite: it is one process by design)', () => {
  it('share the work and run every job exactly once, never two runs of one job at a time', { timeout: 120_000 }, async () => {
    const env = { WORKER_CONCURRENCY: '4', WORKER_POLL_MS: '20' };
    const [a, b] = await Promise.all([startWorker('process-a', env), startWorker('process-b', env)]);
    // Meets first (they run first: same run_at, earlier ids): each runner's 4 slots fill with meets
    // that wait for the other owner, so both processes must take part (test.meet in the worker).
    const meets = await enqueueAll(Array.from({ length: 8 }, (_, n) => ({ type: 'test.meet', payload: { n } })));
    const records = await enqueueAll(Array.from({ length: 200 }, (_, n) => ({ type: 'test.record', payload: { n } })));
    const jobs = [...meets, ...records];
    const succeeded = async () =>
      (await runtime.services.store.repos.jobs.list(everyone, { type: 'test.record', status: 'succeeded', limit: 1000 })).length +
      (await runtime.services.store.repos.jobs.list(everyone, { type: 'test.meet', status: 'succeeded', limit: 1000 })).length;
    await waitFor(async () => (await succeeded()) === jobs.length);
    a?.kill('SIGTERM');
    b?.kill('SIGTERM');
    await Promise.all([a, b].map((w) => w && exited(w)));

    type Run = { job_id: string; owner: string; started_ms: number; ended_ms: number };
    const runs = (await sql<Run>`select * from job_runs order by job_id, started_ms`.execute(runtime.database.db)).rows;
    const byJob = new Map<string, typeof runs>();
    for (const run of runs) byJob.set(run.job_id, [...(byJob.get(run.job_id) ?? []), run]);
    expect(new Set(byJob.keys())).toEqual(new Set(jobs.map((j) => j.id)));
    for (const [id, list] of byJob) {
      for (let i = 1; i < list.length; i++) {
        expect(Number(list[i]?.started_ms), `job ${id} ran twice at once`).toBeGreaterThanOrEqual(Number(list[i - 1]?.ended_ms));
      }
      expect(list, `job ${id} ran ${list.length} times`).toHaveLength(1);
    }
    const perOwner = new Map<string, number>();
    for (const run of runs) perOwner.set(run.owner, (perOwner.get(run.owner) ?? 0) + 1);
    expect(perOwner.get('process-a')).toBeGreaterThan(0);
    expect(perOwner.get('process-b')).toBeGreaterThan(0);
    for (const job of jobs) expect(await find(job.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });
});

describe('a runner process killed mid-job', () => {
  it('leaves the job to another runner, which completes it once the lease has expired', { timeout: 120_000 }, async () => {
    let started: (id: string) => void = () => undefined;
    const startedId = new Promise<string>((resolve) => (started = resolve));
    const worker = await startWorker('doomed', { WORKER_LEASE_MS: '2000', WORKER_POLL_MS: '20' }, (line) => {
      if (line.startsWith('started ')) started(line.slice('started '.length));
    });
    const [job] = await enqueueAll([{ type: 'test.block', payload: {} }]);
    expect(await startedId).toBe(job?.id);
    worker.kill('SIGKILL');
    await exited(worker);

    const orphan = await find(job?.id ?? '');
    expect(orphan).toMatchObject({ status: 'running', leaseOwner: 'doomed', attempts: 1 });
    const handlers = new Map([['test.block', async () => 'completed by the survivor']]);
    const survivor = runtime.jobRunner({ owner: 'survivor', handlers, types: ['test.block'], pollMs: 50 });
    survivor.start();
    try {
      await waitFor(async () => (await find(orphan.id)).status === 'succeeded');
    } finally {
      await survivor.stop();
    }
    const done = await find(orphan.id);
    expect(done).toMatchObject({ attempts: 2, result: 'completed by the survivor' });
    expect(Date.parse(done.startedAt ?? '')).toBeGreaterThan(Date.parse(orphan.leaseExpiresAt ?? ''));
  });
});
