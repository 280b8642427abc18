import type { Clock } from '../lib/clock.js';
import type { Store } from '../repositories/store.js';

const TTL_MS = 5_000;

/**
 * Answers "does this tenant still exist?" for every authenticated request. A token outlives a
 * deleted tenant by up to its lifetime, so the check is needed; positive answers are cached a
 * few seconds so the hot path does not pay a query each time.
 */
export class KnownTenants {
  private readonly known = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async exists(tenantId: string): Promise<boolean> {
    const now = this.clock.now().getTime();
    const seen = this.known.get(tenantId);
    if (seen !== undefined && now - seen < TTL_MS) return true;
    const found = (await this.store.repos.tenants.findById(tenantId)) !== undefined;
    if (found) this.known.set(tenantId, now);
    else this.known.delete(tenantId);
    return found;
  }

  forget(tenantId: string): void {
    this.known.delete(tenantId);
  }
}
