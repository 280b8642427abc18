import type { Services } from '../services/container.js';
import type { JobHandler } from './job-handlers.js';
import type { JobQueue } from './job-queue.js';

export const HOUSEKEEPING_JOB = 'housekeeping';
/** One housekeeping job exists at a time, whatever the number of server processes. */
const UNIQUE_KEY = 'system:housekeeping';
const INTERVAL_MS = 15 * 60_000;

/**
 * Deletes what can no longer matter: expired idempotency records, spent refresh tokens past
 * their expiry, revoked access tokens past theirs. On success it schedules its next run
 * INTERVAL_MS later; the deletes are idempotent, so a run repeated after a crash is harmless.
 */
export function housekeepingHandler(services: Services): JobHandler {
  return async (_job, ctx) => {
    await services.idempotency.purgeExpired();
    await services.tokens.purgeExpired();
    ctx.followUp(nextHousekeeping(new Date(ctx.clock.now().getTime() + INTERVAL_MS).toISOString()));
    return null;
  };
}

/**
 * Called by every server process at start and then every INTERVAL_MS: the unique key makes N
 * processes create one job, and a call while one is queued or running adds nothing. So if
 * housekeeping died (its attempts used up while the database was away, say), it is back within
 * one interval, not at the next start.
 */
export async function scheduleHousekeeping(services: Services): Promise<void> {
  await services.store.transaction((repos) => services.queue.enqueue(repos, nextHousekeeping()));
}

/**
 * Schedules housekeeping now and re-checks every `everyMs` (default INTERVAL_MS); returns the
 * function that stops the re-checks. A failed check is logged and tried again next time.
 */
export async function keepHousekeepingScheduled(services: Services, log: { warn(details: object, message: string): void }, everyMs = INTERVAL_MS): Promise<() => void> {
  await scheduleHousekeeping(services);
  const timer = setInterval(() => {
    scheduleHousekeeping(services).catch((error: unknown) => log.warn({ err: error }, 'scheduling housekeeping failed; will retry'));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

const nextHousekeeping = (runAt?: string): Parameters<JobQueue['enqueue']>[1] => ({
  type: HOUSEKEEPING_JOB,
  payload: null,
  uniqueKey: UNIQUE_KEY,
  ...(runAt !== undefined ? { runAt } : {}),
});
