import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { describeDatabaseError } from './db/database-check.js';
import { migrateToLatest } from './db/migrator.js';
import { StartupError } from './errors/startup-error.js';
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
  /** The migrations this runtime applied when it opened, in order; empty when the schema was up to date. */
  appliedMigrations: string[];
  /**
   * A job runner over this runtime's store, clock, queue and the registered handlers
   * (src/jobs/job-handlers.ts); `options` override the defaults (and the handlers, for tests).
   */
  jobRunner(options?: Partial<JobRunnerOptions>): JobRunner;
  close(): Promise<void>;
}

/**
 * The composition root shared by the server, the CLI and the tests: open the database, bring
 * its schema up to date, wire repositories and services. A database that cannot be opened (not
 * there, unreachable, unwritable) is a StartupError with one line saying what to fix.
 */
export async function openRuntime(config: Config, overrides: { clock?: Clock; hasher?: SecretHasher; queue?: JobQueue } = {}): Promise<Runtime> {
  const asStartupError = (error: unknown): unknown => {
    const line = describeDatabaseError(config.databaseUrl, error);
    return line === undefined || error instanceof StartupError ? error : new StartupError(line, { cause: error });
  };
  let database: Database;
  try {
    database = openDatabase(config.databaseUrl);
  } catch (error) {
    throw asStartupError(error);
  }
  let appliedMigrations: string[];
  try {
    const result = await migrateToLatest(database.db as never, database.dialect);
    appliedMigrations = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw asStartupError(error);
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
  return { database, services, appliedMigrations, jobRunner, close: () => database.close() };
}
