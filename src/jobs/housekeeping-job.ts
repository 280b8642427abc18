import type { FastifyBaseLogger } from 'fastify';
import type { Services } from '../services/container.js';

const INTERVAL_MS = 15 * 60_000;

/**
 * Deletes what can no longer matter: expired idempotency records, spent refresh tokens past
 * their expiry, revoked access tokens past theirs. Every process may run it; the deletes are
 * idempotent, so overlapping runs are harmless.
 */
export function startHousekeeping(services: Services, log: FastifyBaseLogger): { stop(): void } {
  const run = async () => {
    try {
      await services.idempotency.purgeExpired();
      await services.tokens.purgeExpired();
    } catch (error) {
      log.warn({ err: error }, 'housekeeping failed; will retry');
    }
  };
  const timer = setInterval(() => void run(), INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
