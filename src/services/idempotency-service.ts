import { AppError } from '../errors/app-error.js';
import { addSeconds, type Clock } from '../lib/clock.js';
import type { Principal } from '../domain/principal.js';
import type { Store } from '../repositories/store.js';

const RETENTION_SECONDS = 24 * 3600;
/** By default a reservation older than this belongs to a request that died; a retry may take it over. */
const ABANDONED_AFTER_MS = 60_000;
/** Claims competing for an expired or abandoned key: each round one of them wins the key. */
const MAX_CLAIM_ROUNDS = 3;

/**
 * What to do with a request that carries an Idempotency-Key: run it (this request now holds the
 * key; `claimedAt` identifies the claim to complete or release), or send the stored response.
 */
export type IdempotencyDecision =
  | { kind: 'proceed'; claimedAt: string }
  | { kind: 'replay'; statusCode: number; headers: Record<string, string>; body: string };

/**
 * Idempotency-Key on POST, as the IETF draft "The Idempotency-Key HTTP Header Field"
 * (draft-ietf-httpapi-idempotency-key-header) and Stripe's API behave, the same on SQLite and
 * PostgreSQL:
 * - the first request with a key claims it (a unique key decides between simultaneous ones);
 * - a request with the same key while the first is still running: 409 idempotency.in_progress
 *   (nothing is executed; the client retries later);
 * - once the first has finished: its stored response again, marked `Idempotent-Replayed: true`
 *   (a 5xx is not stored: the key is freed so a retry runs the request);
 * - the same key with another method, path or body: 422 idempotency.key_reused;
 * - after 24 h the key may be used afresh; a claim whose request died is taken over after 60 s (IDEMPOTENCY_ABANDONED_SECONDS).
 */
export class IdempotencyService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** IDEMPOTENCY_ABANDONED_SECONDS: a claim older than this is taken over (its request died). */
    private readonly abandonedAfterMs = ABANDONED_AFTER_MS,
  ) {}

  async begin(principal: Principal, key: string, fingerprint: string): Promise<IdempotencyDecision> {
    const repo = this.store.repos.idempotency;
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const now = this.clock.now();
      const claimedAt = now.toISOString();
      const outcome = await repo.claim({
        tenantId: principal.tenantId,
        actorId: keyOwner(principal),
        key,
        fingerprint,
        state: 'pending',
        statusCode: null,
        responseHeaders: null,
        responseBody: null,
        createdAt: claimedAt,
        expiresAt: addSeconds(now, RETENTION_SECONDS).toISOString(),
      });
      if (outcome.claimed) return { kind: 'proceed', claimedAt };

      const holder = outcome.holder;
      if (!holder) continue; // freed in between: claim again
      const expired = Date.parse(holder.expiresAt) <= now.getTime();
      const abandoned = holder.state === 'pending' && now.getTime() - Date.parse(holder.createdAt) > this.abandonedAfterMs;
      if (expired || abandoned) {
        // Conditional: of several requests that found this stale claim, one removes it; all claim again.
        await repo.release(principal.tenantId, keyOwner(principal), key, holder.createdAt, holder.state);
        continue;
      }
      if (holder.fingerprint !== fingerprint) {
        throw new AppError('idempotency.key_reused', 'This Idempotency-Key was used with a different request body or path; use a new key for a new request.');
      }
      if (holder.state === 'pending') throw inProgress();
      return { kind: 'replay', statusCode: holder.statusCode ?? 200, headers: holder.responseHeaders ?? {}, body: holder.responseBody ?? '' };
    }
    throw inProgress();
  }

  /** Stores the response of the claim made by `begin` (ignored if that claim was taken over meanwhile). */
  async complete(principal: Principal, key: string, claimedAt: string, statusCode: number, headers: Record<string, string>, body: string): Promise<void> {
    await this.store.repos.idempotency.complete(principal.tenantId, keyOwner(principal), key, claimedAt, statusCode, headers, body);
  }

  async purgeExpired(): Promise<void> {
    await this.store.repos.idempotency.purgeExpired(this.clock.now().toISOString());
  }

  /** A server error did not apply the request, so the key is freed for a retry (if this claim still holds it). */
  async release(principal: Principal, key: string, claimedAt: string): Promise<void> {
    await this.store.repos.idempotency.release(principal.tenantId, keyOwner(principal), key, claimedAt, 'pending');
  }
}

/**
 * Whose keys these are: the credential's stored row and its kind, so a client deleted and
 * recreated with the same clientId, or an API token whose id happens to equal a clientId, never
 * shares keys (and stored responses) with another credential.
 */
function keyOwner(principal: Principal): string {
  return `${principal.actorType}:${principal.credentialRef ?? principal.actorId}`;
}

function inProgress(): AppError {
  return new AppError('idempotency.in_progress', 'A request with this Idempotency-Key is still being processed; retry after it has finished to get its response.');
}
