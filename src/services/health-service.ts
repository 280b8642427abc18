import { AppError } from '../errors/app-error.js';
import type { Store } from '../repositories/store.js';

/** Readiness: whether this process can reach its database (GET /readyz). */
export class HealthService {
  constructor(private readonly store: Store) {}

  /** Resolves with the database kind when a trivial query succeeds; 503 internal.unavailable otherwise. */
  async readiness(): Promise<{ database: string }> {
    try {
      await this.store.ping();
    } catch {
      throw new AppError('internal.unavailable', 'The database is not reachable.');
    }
    return { database: this.store.dialect };
  }
}
