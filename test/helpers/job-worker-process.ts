/**
 * A Roster job runner in a process of its own, for tests that need real processes (two runners
 * sharing one PostgreSQL; a runner killed mid-job). Configured by environment:
 * DATABASE_URL, WORKER_OWNER (lease owner id), WORKER_LEASE_MS, WORKER_CONCURRENCY, WORKER_POLL_MS.
 * Handlers (test types only):
 * - `test.record`: sleeps 20–30 ms and inserts (job id, owner, start ms, end ms) into `job_runs`;
 * - `test.block`: prints `started <job id>` and never finishes (until the process dies);
 * - `test.meet`: records its owner in `job_meets`, waits (up to 60 s) until a runner of another
 *   owner has done the same, then records its run like `test.record`. A runner whose slots are
 *   all held by waiting meets cannot take more, so the others go to the other process: both
 *   processes provably take part, however unevenly a loaded machine schedules them.
 * Prints `ready` once the runner polls; SIGTERM stops the runner and exits.
 */
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import type { JobHandler } from '../../src/jobs/job-handlers.js';
import { openRuntime } from '../../src/runtime.js';

const env = process.env;
const owner = env.WORKER_OWNER ?? `worker-${process.pid}`;
const runtime = await openRuntime(loadConfig({ DATABASE_URL: env.DATABASE_URL, LOG_LEVEL: 'silent' }));

const record: JobHandler = async (job) => {
  const start = Date.now();
  // Long enough (20–30 ms) that both processes get a share even on a loaded machine.
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 10)));
  const end = Date.now();
  await sql`insert into job_runs (job_id, owner, started_ms, ended_ms) values (${job.id}, ${owner}, ${start}, ${end})`.execute(runtime.database.db);
  return { owner };
};
const meet: JobHandler = async (job) => {
  const start = Date.now();
  await sql`insert into job_meets (owner) values (${owner})`.execute(runtime.database.db);
  for (;;) {
    const { rows } = await sql<{ n: number | string }>`select count(distinct owner) as n from job_meets`.execute(runtime.database.db);
    if (Number(rows[0]?.n) >= 2) break;
    if (Date.now() - start > 60_000) throw new Error('no runner of another owner took a meet job within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await sql`insert into job_runs (job_id, owner, started_ms, ended_ms) values (${job.id}, ${owner}, ${start}, ${Date.now()})`.execute(runtime.database.db);
  return { owner };
};
const block: JobHandler = async (job) => {
  process.stdout.write(`started ${job.id}\n`);
  await new Promise(() => undefined);
};

const runner = runtime.jobRunner({
  owner,
  handlers: new Map([['test.record', record], ['test.block', block], ['test.meet', meet]]),
  types: ['test.record', 'test.block', 'test.meet'],
  leaseMs: Number(env.WORKER_LEASE_MS ?? 30_000),
  concurrency: Number(env.WORKER_CONCURRENCY ?? 2),
  pollMs: Number(env.WORKER_POLL_MS ?? 50),
  log: { warn: (details, message) => console.error(message, details), error: (details, message) => console.error(message, details) },
});
runner.start();
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  void runner
    .stop(5000)
    .then(() => runtime.close())
    .then(() => process.exit(0));
});
