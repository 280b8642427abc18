import { AppError } from '../errors/app-error.js';
import type { Store } from '../repositories/store.js';

/**
 * Readiness (GET /readyz): this process has finished starting (the server bootstraps the admin
 * client after it starts listening) and can reach its database.
 */
export class HealthService {
  private starting = false;

  constructor(private readonly store: Store) {}

  /** The server is listening but still starting: not ready until `started()`. */
  markStarting(): void {
    this.starting = true;
  }

  markStarted(): void {
    this.starting = false;
  }

  /** Resolves with the database kind when started and a trivial query succeeds; 503 internal.unavailable otherwise. */
  async readiness(): Promise<{ database: string }> {
    if (this.starting) throw new AppError('internal.unavailable', 'The server is still starting.');
    try {
      await this.store.ping();
    } catch {
      throw new AppError('internal.unavailable', 'The database is not reachable.');
    }
    return { database: this.store.dialect };
  }
}
