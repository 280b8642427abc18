import { AppError } from '../errors/app-error.js';
import { addSeconds, type Clock } from '../lib/clock.js';
import type { Principal } from '../domain/principal.js';
import type { Store } from '../repositories/store.js';

const RETENTION_SECONDS = 24 * 3600;
/** A reservation older than this belongs to a request that died; a retry may take it over. */
const ABANDONED_AFTER_MS = 60_000;

export type IdempotencyDecision =
  | { kind: 'proceed' }
  | { kind: 'replay'; statusCode: number; headers: Record<string, string>; body: string };

/**
 * Idempotency-Key on POST (as in Stripe's API and the IETF draft): the first request with a key
 * reserves it; its response is stored; a retry with the same key and body gets that response
 * again, with another body a 422, and while the first is still running a 409.
 */
export class IdempotencyService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async begin(principal: Principal, key: string, fingerprint: string): Promise<IdempotencyDecision> {
    const repo = this.store.repos.idempotency;
    const now = this.clock.now();
    for (let attempt = 0; attempt < 2; attempt++) {
      const reserved = await repo.tryInsertPending({
        tenantId: principal.tenantId,
        actorId: principal.actorId,
        key,
        fingerprint,
        state: 'pending',
        statusCode: null,
        responseHeaders: null,
        responseBody: null,
        createdAt: now.toISOString(),
        expiresAt: addSeconds(now, RETENTION_SECONDS).toISOString(),
      });
      if (reserved) return { kind: 'proceed' };

      const existing = await repo.find(principal.tenantId, principal.actorId, key);
      if (!existing) continue;
      const expired = Date.parse(existing.expiresAt) <= now.getTime();
      const abandoned = existing.state === 'pending' && now.getTime() - Date.parse(existing.createdAt) > ABANDONED_AFTER_MS;
      if (expired || abandoned) {
        await repo.release(principal.tenantId, principal.actorId, key);
        continue;
      }
      if (existing.fingerprint !== fingerprint) {
        throw new AppError('idempotency.key_reused', 'This Idempotency-Key was used with a different request body or path; use a new key for a new request.');
      }
      if (existing.state === 'pending') throw new AppError('idempotency.in_progress', 'Retry after the first request with this Idempotency-Key has finished.');
      return { kind: 'replay', statusCode: existing.statusCode ?? 200, headers: existing.responseHeaders ?? {}, body: existing.responseBody ?? '' };
    }
    throw new AppError('idempotency.in_progress', 'Retry after the first request with this Idempotency-Key has finished.');
  }

  async complete(principal: Principal, key: string, statusCode: number, headers: Record<string, string>, body: string): Promise<void> {
    await this.store.repos.idempotency.complete(principal.tenantId, principal.actorId, key, statusCode, headers, body);
  }

  async purgeExpired(): Promise<void> {
    await this.store.repos.idempotency.purgeExpired(this.clock.now().toISOString());
  }

  /** A server error did not apply the request, so the key is freed for a retry. */
  async release(principal: Principal, key: string): Promise<void> {
    await this.store.repos.idempotency.release(principal.tenantId, principal.actorId, key);
  }
}
