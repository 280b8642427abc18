import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AppError } from '../errors/app-error.js';
import {
  orderBatch, rowKey, toBulkRow, type BulkDisableResult, type BulkMode, type BulkRow, type BulkRowOutcome, type BulkUpsertResult, type DisableOutcome, type DisableTarget,
} from '../domain/bulk-upsert.js';
import type { Principal } from '../domain/principal.js';
import { newId } from '../lib/ids.js';
import type { Store } from '../repositories/store.js';
import { upsertRows, type BulkBatch } from './commands/bulk-upsert-command.js';
import { disableUsers } from './commands/bulk-disable-command.js';
import type { UnitOfWork, UnitRunner } from './unit-of-work.js';


/**
 * Rows per unit of work. Each chunk is one transaction; on SQLite every query of it runs on the
 * one connection, so the chunk bounds how long other requests wait behind a load (about 20–40 ms
 * at this size on the reference machine: bench/README.md).
 */
export const BULK_CHUNK_ROWS = 250;

export interface BulkUpsertRequest {
  origin: string;
  mode: BulkMode;
  dryRun: boolean;
  /** Rows as sent: `key`, user fields and references side by side (BulkUserRowSchema). */
  rows: readonly Record<string, unknown>[];
}

/** A batch to run: rows keyed by (origin, key), and how (see BulkBatch for capture and expected). */
export interface BatchSpec {
  origin: string;
  mode: BulkMode;
  rows: readonly BulkRow[];
  dryRun: boolean;
  capture?: boolean | undefined;
  expected?: ReadonlyMap<string, number | null> | undefined;
}

/** Thrown to roll a dry run's chunk back after it has run exactly as it would have. */
class DryRunRollback<T> extends Error {
  constructor(readonly outcomes: T) {
    super('dry run: rolled back');
  }
}

/**
 * Bulk writes keyed by external id: upsert and disable. A batch is written in chunks of
 * BULK_CHUNK_ROWS rows, one unit of work each, yielding to the event loop between chunks; each
 * row is applied whole or not at all and fails alone. A dry run runs every chunk exactly as a
 * real run would and rolls it back, so it answers what the call would do, writing nothing.
 */
export class BulkService {
  constructor(
    private readonly store: Store,
    private readonly units: UnitRunner,
    private readonly chunkRows = BULK_CHUNK_ROWS,
  ) {}

  /**
   * Creates and updates users by (origin, key): only the fields a row sends change; references
   * by id, name, code or external key; a manager may be another row of the batch, in any order.
   * Rows repeating an earlier key, and rows whose in-batch managers form a cycle, are refused.
   */
  async upsert(principal: Principal, request: BulkUpsertRequest): Promise<BulkUpsertResult> {
    const rows: BulkRow[] = request.rows.map(toBulkRow);
    const outcomes = await this.runBatch(principal, { origin: request.origin, mode: request.mode, rows, dryRun: request.dryRun });
    const count = (status: BulkRowOutcome['status']) => outcomes.filter((o) => o.status === status).length;
    return { added: count('added'), updated: count('updated'), unchanged: count('unchanged'), errors: count('error'), dryRun: request.dryRun, rows: outcomes };
  }

  /**
   * Runs a whole batch, chunk by chunk, and returns one outcome per row in row order. `afterChunk`
   * runs inside each chunk's unit with that chunk's outcomes (a sync apply records them in the
   * same transaction as the writes). Rows refused before any write (repeated keys, in-batch
   * manager cycles) are outcomes too, but of no chunk.
   */
  async runBatch(principal: Principal, spec: BatchSpec, afterChunk?: (unit: UnitOfWork, outcomes: readonly BulkRowOutcome[]) => Promise<void>): Promise<BulkRowOutcome[]> {
    const { rows, origin } = spec;
    const { order, cycles, repeats } = orderBatch(rows, origin);
    const outcomes: BulkRowOutcome[] = new Array(rows.length);
    for (const [index, earlier] of repeats) {
      outcomes[index] = { index, status: 'error', id: null, error: new AppError('bulk.duplicate_key', `Row ${earlier} of this request has the same key ${JSON.stringify(rows[index]?.key)}; each key at most once per request.`, [{ field: '/body/key', message: `repeats row ${earlier}` }]) };
    }
    for (const index of cycles) {
      outcomes[index] = { index, status: 'error', id: null, error: new AppError('user.manager_cycle', `The managers of rows of this request form a cycle through row ${index} (key ${JSON.stringify(rows[index]?.key)}); none of those rows was written.`, [{ field: '/body/manager', message: 'forms a cycle' }]) };
    }
    const batch: BulkBatch = { origin, mode: spec.mode, rows, ids: new Map(), phantom: new Set(), capture: spec.capture, expected: spec.expected };
    // Ids for the whole batch up front: users that exist keep theirs, new ones get theirs now, so a
    // row can name a manager that a later chunk creates. Each chunk reads them again under lock.
    const found = await this.store.repos.users.findByExternalKeys(principal.tenantId, origin, rows.map((r) => r.key));
    for (const row of rows) {
      const key = rowKey(row.key);
      if (!batch.ids.has(key)) batch.ids.set(key, found.get(key)?.id ?? newId());
    }
    for (let i = 0; i < order.length; i += this.chunkRows) {
      const chunk = order.slice(i, i + this.chunkRows);
      const written = await this.inUnit(principal, spec.dryRun, async (unit) => {
        const result = await upsertRows(batch, chunk)(unit);
        await afterChunk?.(unit, result);
        return result;
      });
      for (const outcome of written) {
        outcomes[outcome.index] = spec.dryRun && outcome.status === 'added' ? { ...outcome, id: null as never } : outcome;
        if (spec.dryRun && outcome.status === 'added') batch.phantom.add(rowKey((rows[outcome.index] as BulkRow).key));
      }
      await yieldToEventLoop();
    }
    return outcomes;
  }

  /**
   * Suspends users (by id or external key) through the lifecycle table: `disabled` when the user
   * moved to suspended, `unchanged` when it already was; users with preventDeprovision, and
   * users whose status cannot move to suspended, are errors of their own.
   */
  async disable(principal: Principal, targets: readonly DisableTarget[], dryRun: boolean): Promise<BulkDisableResult> {
    const outcomes: DisableOutcome[] = [];
    // A dry run rolls each chunk back: a user it disabled in an earlier chunk is, in the real run,
    // already suspended when named again, so it answers `unchanged` there too.
    const disabledEarlier = new Set<string>();
    for (let i = 0; i < targets.length; i += this.chunkRows) {
      const indexes = Array.from({ length: Math.min(this.chunkRows, targets.length - i) }, (_, k) => i + k);
      for (const outcome of await this.inUnit(principal, dryRun, disableUsers(targets, indexes))) {
        const repeated = dryRun && outcome.status === 'disabled' && disabledEarlier.has(outcome.id);
        outcomes.push(repeated ? { ...outcome, status: 'unchanged' } : outcome);
        if (dryRun && outcome.status === 'disabled') disabledEarlier.add(outcome.id);
      }
      await yieldToEventLoop();
    }
    const count = (status: DisableOutcome['status']) => outcomes.filter((o) => o.status === status).length;
    return { disabled: count('disabled'), unchanged: count('unchanged'), errors: count('error'), dryRun, rows: outcomes };
  }

  /** Runs one chunk in its own unit; a dry run's unit is rolled back after it ran. */
  private async inUnit<T>(principal: Principal, dryRun: boolean, work: (unit: UnitOfWork) => Promise<T>): Promise<T> {
    if (!dryRun) return this.units.within(principal, work);
    try {
      await this.units.within(principal, async (unit) => {
        throw new DryRunRollback(await work(unit));
      });
    } catch (error) {
      if (error instanceof DryRunRollback) return error.outcomes as T;
      throw error;
    }
    throw new Error('unreachable: a dry run always rolls back');
  }
}
