import type { Kysely, Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB, SyncRunItemTable, SyncRunTable } from '../db/schema.js';
import { parseJson, toJson } from '../db/json-columns.js';
import { identifierKey } from '../domain/identifier-key.js';
import type { SyncAction, SyncItem, SyncRun, SyncRunStatus } from '../domain/sync-run.js';
import type { User } from '../domain/user.js';
import { toUser } from './user-repository.js';

/** Rows per multi-row insert (items have 12 columns: far below either database's parameter limit). */
const INSERT_CHUNK = 250;

export interface SyncRunListQuery {
  status?: SyncRunStatus | undefined;
  origin?: string | undefined;
  /** Newest first: runs with an id lower than this one (UUIDv7 ids follow creation time). */
  before?: string | undefined;
  limit: number;
}

/** The tables of directory sync runs: runs, the rows of their snapshots, their plans' items. */
export class SyncRunRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  async insert(run: SyncRun): Promise<void> {
    await this.db.insertInto('sync_runs').values(toRow(run)).execute();
  }

  /** The run; with `lock`, held FOR UPDATE until the transaction ends (PostgreSQL), so status changes of one run queue. */
  async findById(tenantId: string, id: string, lock = false): Promise<SyncRun | undefined> {
    const row = await this.db
      .selectFrom('sync_runs')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .$if(lock && this.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    return row && toRun(row);
  }

  /** Writes the run if it is still at `expectedVersion`; false when another writer moved it. */
  async update(run: SyncRun, expectedVersion: number): Promise<boolean> {
    const { id, tenant_id, created_at: _createdAt, ...changes } = toRow(run);
    const result = await this.db.updateTable('sync_runs').set(changes).where('id', '=', id).where('tenant_id', '=', tenant_id).where('version', '=', expectedVersion).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async list(tenantId: string, q: SyncRunListQuery): Promise<SyncRun[]> {
    const rows = await this.db
      .selectFrom('sync_runs')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      // A discarded run is gone (404 by id), so it is not listed either.
      .where('status', '<>', 'discarded')
      .$if(q.status !== undefined, (b) => b.where('status', '=', q.status as string))
      .$if(q.origin !== undefined, (b) => b.where('origin', '=', q.origin as string))
      .$if(q.before !== undefined, (b) => b.where('id', '<', q.before as string))
      .orderBy('id', 'desc')
      .limit(q.limit)
      .execute();
    return rows.map(toRun);
  }

  /** Appends snapshot rows from position `firstSeq` on, with their keys in comparison form. */
  async appendRows(runId: string, firstSeq: number, rows: readonly { key: string; row: unknown }[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const values = rows.slice(i, i + INSERT_CHUNK).map((r, k) => ({ run_id: runId, seq: firstSeq + i + k, key_lower: identifierKey(r.key), row: toJson(r.row) }));
      await this.db.insertInto('sync_run_rows').values(values).execute();
    }
  }

  /** Snapshot rows after position `afterSeq`, in order. */
  async rows(runId: string, afterSeq: number, limit: number): Promise<{ seq: number; row: Record<string, unknown> }[]> {
    const rows = await this.db.selectFrom('sync_run_rows').select(['seq', 'row']).where('run_id', '=', runId).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ seq: r.seq, row: parseJson<Record<string, unknown>>(r.row, {}) }));
  }

  /** The snapshot rows at these positions, by position. */
  async rowsAt(runId: string, seqs: readonly number[]): Promise<Map<number, Record<string, unknown>>> {
    const found = new Map<number, Record<string, unknown>>();
    for (let i = 0; i < seqs.length; i += 500) {
      const rows = await this.db.selectFrom('sync_run_rows').select(['seq', 'row']).where('run_id', '=', runId).where('seq', 'in', seqs.slice(i, i + 500)).execute();
      for (const r of rows) found.set(r.seq, parseJson<Record<string, unknown>>(r.row, {}));
    }
    return found;
  }

  /** Ids of the runs among `ids` whose origin is `origin` (in comparison form). */
  async runsOfOrigin(tenantId: string, ids: readonly string[], origin: string): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.selectFrom('sync_runs').select(['id', 'origin']).where('tenant_id', '=', tenantId).where('id', 'in', [...new Set(ids)]).execute();
    return new Set(rows.filter((r) => identifierKey(r.origin) === identifierKey(origin)).map((r) => r.id));
  }

  /**
   * Users holding an external id of `origin` whose key is not in the run's snapshot, in user id
   * order after `afterId`, each with that key as stored.
   */
  async usersMissingFrom(tenantId: string, runId: string, origin: string, afterId: string, limit: number): Promise<{ key: string; user: User }[]> {
    const rows = await this.db
      .selectFrom('user_external_ids as e')
      .innerJoin('users', 'users.id', 'e.user_id')
      .selectAll('users')
      .select('e.key as external_key')
      .where('e.tenant_id', '=', tenantId)
      .where('e.origin', '=', identifierKey(origin))
      .where('users.id', '>', afterId)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('sync_run_rows as r').select('r.seq').where('r.run_id', '=', runId).whereRef('r.key_lower', '=', 'e.key'))),
      )
      .orderBy('users.id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ key: row.external_key, user: toUser(row) }));
  }

  /** Active users of `origin`: the base of a percentage in maxDeactivations. */
  async activeUsersOfOrigin(tenantId: string, origin: string): Promise<number> {
    const row = await this.db
      .selectFrom('user_external_ids as e')
      .innerJoin('users', 'users.id', 'e.user_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('e.tenant_id', '=', tenantId)
      .where('e.origin', '=', identifierKey(origin))
      .where('users.status', '=', 'active')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async deleteItems(runId: string): Promise<void> {
    await this.db.deleteFrom('sync_run_items').where('run_id', '=', runId).execute();
  }

  async deleteRows(runId: string): Promise<void> {
    await this.db.deleteFrom('sync_run_rows').where('run_id', '=', runId).execute();
  }

  async insertItems(items: readonly SyncItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += INSERT_CHUNK) await this.db.insertInto('sync_run_items').values(items.slice(i, i + INSERT_CHUNK).map(toItemRow)).execute();
  }

  /** A page of a plan's items in plan order, optionally of one action. */
  async items(runId: string, q: { action?: SyncAction | undefined; afterSeq: number; limit: number }): Promise<SyncItem[]> {
    const rows = await this.db
      .selectFrom('sync_run_items')
      .selectAll()
      .where('run_id', '=', runId)
      .$if(q.action !== undefined, (b) => b.where('action', '=', q.action as string))
      .where('seq', '>', q.afterSeq)
      .orderBy('seq')
      .limit(q.limit)
      .execute();
    return rows.map(toItem);
  }

  /** Writing items not applied yet, in plan order after `afterSeq` (what an apply, or its resumption, still has to do). */
  async pendingItems(runId: string, afterSeq: number, limit: number): Promise<SyncItem[]> {
    const rows = await this.db
      .selectFrom('sync_run_items')
      .selectAll()
      .where('run_id', '=', runId)
      .where('seq', '>', afterSeq)
      .where('outcome', 'is', null)
      .where('action', 'in', ['create', 'update', 'reactivate', 'suspend'])
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toItem);
  }

  /** Records what applying some items did (in the transaction that applied them). */
  async setOutcomes(runId: string, outcomes: readonly { seq: number; outcome: 'applied' | 'failed'; error: unknown }[]): Promise<void> {
    for (const o of outcomes) {
      await this.db.updateTable('sync_run_items').set({ outcome: o.outcome, outcome_error: o.error === null ? null : toJson(o.error) }).where('run_id', '=', runId).where('seq', '=', o.seq).execute();
    }
  }

  /** Applied and failed items per action, counted from the items (exact after a resumed apply too). */
  async outcomeCounts(runId: string): Promise<{ action: string; outcome: string; n: number }[]> {
    const rows = await this.db
      .selectFrom('sync_run_items')
      .select(['action', 'outcome', (eb) => eb.fn.countAll<number>().as('n')])
      .where('run_id', '=', runId)
      .where('outcome', 'is not', null)
      .groupBy(['action', 'outcome'])
      .execute();
    return rows.map((r) => ({ action: r.action, outcome: r.outcome as string, n: Number(r.n) }));
  }
}

function toRow(run: SyncRun) {
  return {
    id: run.id,
    tenant_id: run.tenantId,
    origin: run.origin,
    status: run.status,
    options: toJson(run.options),
    received: run.received,
    counts: run.counts === null ? null : toJson(run.counts),
    applied: run.applied === null ? null : toJson(run.applied),
    held_reasons: toJson(run.heldReasons),
    job_id: run.jobId,
    actor_type: run.actorType,
    actor_id: run.actorId,
    version: run.version,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    planned_at: run.plannedAt,
    applied_at: run.appliedAt,
  };
}

function toRun(row: Selectable<SyncRunTable>): SyncRun {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    origin: row.origin,
    status: row.status as SyncRunStatus,
    options: parseJson(row.options, { missing: 'ignore', maxDeactivations: null, maxChanges: null }),
    received: row.received,
    counts: parseJson(row.counts, null),
    applied: parseJson(row.applied, null),
    heldReasons: parseJson(row.held_reasons, []),
    jobId: row.job_id,
    actorType: row.actor_type,
    actorId: row.actor_id,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    plannedAt: row.planned_at,
    appliedAt: row.applied_at,
  };
}

function toItemRow(item: SyncItem) {
  return {
    run_id: item.runId,
    seq: item.seq,
    key: item.key,
    row_seq: item.rowSeq,
    user_id: item.userId,
    action: item.action,
    base_version: item.baseVersion,
    changes: toJson(item.changes),
    warnings: toJson(item.warnings),
    error: item.error === null ? null : toJson(item.error),
    outcome: item.outcome,
    outcome_error: item.outcomeError === null ? null : toJson(item.outcomeError),
  };
}

function toItem(row: Selectable<SyncRunItemTable>): SyncItem {
  return {
    runId: row.run_id,
    seq: row.seq,
    key: row.key,
    rowSeq: row.row_seq,
    userId: row.user_id,
    action: row.action as SyncAction,
    baseVersion: row.base_version,
    changes: parseJson(row.changes, {}),
    warnings: parseJson(row.warnings, []),
    error: parseJson(row.error, null),
    outcome: row.outcome as SyncItem['outcome'],
    outcomeError: parseJson(row.outcome_error, null),
  };
}
