import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AppError, storedProblem } from '../errors/app-error.js';
import {
  externalIdClaim, orderBatch, rowKey, toBulkRow, userNameClaim, type BulkDisableResult, type UniqueClaims, type BulkMode, type BulkRow, type BulkRowOutcome, type BulkUpsertResult, type DisableOutcome, type DisableTarget,
} from '../domain/bulk-upsert.js';
import { BULK_UPSERT_JOB, type Job } from '../domain/job.js';
import type { Principal } from '../domain/principal.js';
import { newId } from '../lib/ids.js';
import type { Store } from '../repositories/store.js';
import type { BulkRowResult } from '../repositories/bulk-job-repository.js';
import { upsertRows, type BulkBatch } from './commands/bulk-upsert-command.js';
import { disableUsers } from './commands/bulk-disable-command.js';
import type { UnitOfWork, UnitRunner } from './unit-of-work.js';


/**
 * Rows per unit of work. Each chunk is one transaction; on SQLite every query of it runs on the
 * one connection, so the chunk bounds how long other requests wait behind a load: 100 rows there
 * (a few tens of milliseconds), 250 on PostgreSQL, whose pool serves reads beside a writing chunk
 * (bench/README.md, "Bulk upsert and sync runs").
 */
export function bulkChunkRows(dialect: 'sqlite' | 'postgres'): number {
  return dialect === 'sqlite' ? 100 : 250;
}

export interface BulkUpsertRequest {
  origin: string;
  mode: BulkMode;
  dryRun: boolean;
  /** Rows as sent: `key`, user fields and references side by side (BulkUserRowSchema). */
  rows: readonly Record<string, unknown>[];
}


/** Most rows one call answers synchronously; larger calls (and `?async=true`) become a job. */
export const MAX_SYNC_BULK_ROWS = 10_000;

/** What an asynchronous bulk upsert's job carries (internal: never shown). */
interface AsyncBulkPayload {
  batchId: string;
  origin: string;
  mode: BulkMode;
  dryRun: boolean;
  total: number;
  actorType: string;
  actorId: string;
}

/** What a dry run's chunk wrote that later chunks may meet (see BulkBatch.claims). */
function rememberClaims(batch: BulkBatch, claims: UniqueClaims): void {
  batch.claims?.set(userNameClaim(claims.userName), claims);
  for (const e of claims.externalIds) batch.claims?.set(externalIdClaim(e), claims);
  if (!claims.isNew && claims.changedIdentifiers) batch.renamed?.set(claims.userId, claims);
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
 * `chunkRows` rows (bulkChunkRows), one unit of work each, yielding to the event loop between chunks; each
 * row is applied whole or not at all and fails alone. A dry run runs every chunk exactly as a
 * real run would and rolls it back, so it answers what the call would do, writing nothing.
 */
export class BulkService {
  constructor(
    private readonly store: Store,
    private readonly units: UnitRunner,
    readonly chunkRows = bulkChunkRows(store.dialect),
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
    const batch: BulkBatch = {
      origin, mode: spec.mode, rows, ids: new Map(), phantom: new Set(), capture: spec.capture, expected: spec.expected,
      ...(spec.dryRun ? { dryRun: true, claims: new Map<string, UniqueClaims>(), renamed: new Map<string, UniqueClaims>() } : {}),
    };
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
        const { claims, ...shown } = outcome;
        outcomes[outcome.index] = spec.dryRun && outcome.status === 'added' ? { ...shown, id: null as never } : shown;
        if (spec.dryRun && outcome.status === 'added') batch.phantom.add(rowKey((rows[outcome.index] as BulkRow).key));
        if (claims) rememberClaims(batch, claims);
      }
      await yieldToEventLoop();
    }
    return outcomes;
  }

  /**
   * Starts an asynchronous bulk upsert (a call of more than MAX_SYNC_BULK_ROWS rows, or one that
   * asks for it): the rows are stored (in transactions of 1,000 rows, so other writes go on), then
   * a job is enqueued that writes them as `upsert` would and records each row's result in the
   * same transaction as its change. Returns the job (poll GET /v1/jobs/{id}; results at
   * GET /v1/jobs/{id}/results).
   */
  async startAsync(principal: Principal, request: BulkUpsertRequest): Promise<Job> {
    const batchId = newId();
    for (let i = 0; i < request.rows.length; i += 1000) {
      const slice = request.rows.slice(i, i + 1000).map((row) => ({ key: String(row.key), row }));
      await this.store.transaction((repos) => repos.bulkJobs.appendRows(batchId, principal.tenantId, i + 1, slice));
      await yieldToEventLoop();
    }
    const payload: AsyncBulkPayload = { batchId, origin: request.origin, mode: request.mode, dryRun: request.dryRun, total: request.rows.length, actorType: principal.actorType, actorId: principal.actorId };
    return this.units.within(principal, (unit) => unit.enqueue({ type: BULK_UPSERT_JOB, payload }));
  }

  /**
   * The job of an asynchronous bulk upsert: writes the rows that have no result yet (all of them,
   * or what a killed attempt left), chunk by chunk, each chunk's results in its own unit. A dry
   * run records its results at the end (its chunks roll back). Returns the counts.
   */
  async runAsyncJob(job: Job, progress: (p: unknown) => Promise<void>): Promise<unknown> {
    const p = job.payload as AsyncBulkPayload;
    const tenantId = job.tenantId as string;
    const principal: Principal = { tenantId, scopes: [], actorType: p.actorType as Principal['actorType'], actorId: p.actorId, context: { jobId: job.id } };
    const pending: { seq: number; row: Record<string, unknown> }[] = [];
    for (let after = 0; ; ) {
      const page = await this.store.repos.bulkJobs.pending(p.batchId, after, 5000);
      if (page.length === 0) break;
      pending.push(...page);
      after = (page.at(-1) as { seq: number }).seq;
    }
    const rows = pending.map((r) => toBulkRow(r.row));
    const resultOf = (o: BulkRowOutcome) => ({
      seq: (pending[o.index] as { seq: number }).seq,
      status: o.status,
      userId: o.status === 'added' && p.dryRun ? null : o.id,
      error: o.status === 'error' ? storedProblem(o.error) : null,
    });
    let done = p.total - pending.length;
    await progress({ done, total: p.total });
    const recorded = new Set<number>();
    const outcomes = await this.runBatch(principal, { origin: p.origin, mode: p.mode, rows, dryRun: p.dryRun }, async (unit, chunk) => {
      await unit.repos.bulkJobs.setResults(p.batchId, chunk.map(resultOf));
      chunk.forEach((o) => recorded.add(o.index));
      done += chunk.length;
      // Not awaited: progress is a transaction of its own, and this runs inside the chunk's unit
      // (on SQLite the next unit starts only when this one has ended). A lost lease shows at the end.
      progress({ done, total: p.total }).catch(() => undefined);
    });
    const left = outcomes.filter((o) => p.dryRun || !recorded.has(o.index));
    for (let i = 0; i < left.length; i += 1000) await this.store.transaction((repos) => repos.bulkJobs.setResults(p.batchId, left.slice(i, i + 1000).map(resultOf)));
    await progress({ done: p.total, total: p.total });
    const counts = await this.store.repos.bulkJobs.counts(p.batchId);
    return { added: counts.get('added') ?? 0, updated: counts.get('updated') ?? 0, unchanged: counts.get('unchanged') ?? 0, errors: counts.get('error') ?? 0, dryRun: p.dryRun };
  }

  /** A page of an asynchronous bulk upsert's results (404 job.not_found for another tenant's job or a job of another type). */
  async results(principal: Principal, job: Job, q: { status?: string | undefined; afterSeq: number; limit: number }): Promise<BulkRowResult[]> {
    if (job.type !== BULK_UPSERT_JOB) throw new AppError('job.not_found', `Job ${job.id} is not a bulk upsert; only bulk upserts have results.`);
    return this.store.repos.bulkJobs.results((job.payload as AsyncBulkPayload).batchId, principal.tenantId, q);
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
