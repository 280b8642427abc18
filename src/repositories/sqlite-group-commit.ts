import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.js';

interface Unit {
  work: (trx: Transaction<DB>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** At most this many units, or this long, before a batch commits: bounds what waits behind it. */
const MAX_UNITS = 64;
const MAX_BATCH_MS = 4;

/**
 * Group commit for SQLite. SQLite writes one transaction at a time, and each commit appends every
 * page it touched to the WAL; committing units one by one spends most of a write on those page
 * copies. Units that arrive while a batch is open run one after another inside the same SQLite
 * transaction, each in its own SAVEPOINT:
 * - a unit that fails is rolled back to its savepoint and rejected: nothing of it is applied,
 *   the other units are untouched (the same all-or-nothing as a transaction of its own);
 * - a unit's promise resolves only after the batch has COMMITTED, so no caller is ever told
 *   "done" about a change a crash could still lose;
 * - if the COMMIT itself fails, every unit of the batch is rejected and nothing is applied.
 * Units never interleave (the next starts when the previous settled), so savepoints nest cleanly.
 */
export class SqliteGroupCommit {
  private readonly queue: Unit[] = [];
  private draining = false;

  constructor(private readonly db: Kysely<DB>) {}

  run<T>(work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) await this.batch();
    } finally {
      this.draining = false;
    }
  }

  private async batch(): Promise<void> {
    const trx = await this.db.startTransaction().execute();
    const done: { unit: Unit; value: unknown }[] = [];
    const started = Date.now();
    let n = 0;
    try {
      while (this.queue.length > 0 && n < MAX_UNITS && (n === 0 || Date.now() - started < MAX_BATCH_MS)) {
        const unit = this.queue.shift() as Unit;
        const name = `unit_${n++}`;
        const savepoint = await trx.savepoint(name).execute();
        try {
          const value = await unit.work(savepoint);
          await savepoint.releaseSavepoint(name).execute();
          done.push({ unit, value });
        } catch (error) {
          await savepoint.rollbackToSavepoint(name).execute();
          await savepoint.releaseSavepoint(name).execute();
          unit.reject(error);
        }
        // Let requests that arrived meanwhile join this batch instead of waiting for the next.
        if (this.queue.length === 0) await new Promise<void>((r) => setImmediate(r));
      }
      await trx.commit().execute();
    } catch (error) {
      await trx.rollback().execute().catch(() => undefined);
      for (const { unit } of done) unit.reject(error);
      return;
    }
    for (const { unit, value } of done) unit.resolve(value);
  }
}
