import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrateToLatest } from './db/migrator.js';
import { jobHandlers } from './jobs/job-handlers.js';
import { DatabaseJobQueue, type JobQueue } from './jobs/job-queue.js';
import { JobRunner, type JobRunnerOptions } from './jobs/job-runner.js';
import { systemClock, type Clock } from './lib/clock.js';
import { argon2Hasher, type SecretHasher } from './lib/secrets.js';
import { createStore } from './repositories/store.js';
import { createServices, type Services } from './services/container.js';

export interface Runtime {
  database: Database;
  services: Services;
  /**
   * A job runner over this runtime's store, clock, queue and the registered handlers
   * (src/jobs/job-handlers.ts); `options` override the defaults (and the handlers, for tests).
   */
  jobRunner(options?: Partial<JobRunnerOptions>): JobRunner;
  close(): Promise<void>;
}

/**
 * The composition root shared by the server, the CLI and the tests: open the database, bring
 * its schema up to date, wire repositories and services.
 */
export async function openRuntime(config: Config, overrides: { clock?: Clock; hasher?: SecretHasher; queue?: JobQueue } = {}): Promise<Runtime> {
  const database = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(database.db as never, database.dialect);
  } catch (error) {
    await database.close();
    throw error;
  }
  const clock = overrides.clock ?? systemClock;
  const queue = overrides.queue ?? new DatabaseJobQueue(clock);
  const services = createServices({ store: createStore(database), clock, hasher: overrides.hasher ?? argon2Hasher, queue, config });
  const jobRunner = (options: Partial<JobRunnerOptions> = {}) =>
    new JobRunner({
      store: services.store,
      clock,
      queue,
      handlers: jobHandlers(services),
      concurrency: Math.max(1, config.jobConcurrency),
      pollMs: config.jobPollMs,
      leaseMs: config.jobLeaseSeconds * 1000,
      ...options,
    });
  return { database, services, jobRunner, close: () => database.close() };
}
