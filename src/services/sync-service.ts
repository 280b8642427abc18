import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AppError, storedProblem } from '../errors/app-error.js';
import { rowKey, toBulkRow, type BulkRow, type BulkRowOutcome } from '../domain/bulk-upsert.js';
import type { FieldChanges } from '../domain/event.js';
import { SYNC_APPLY_JOB, type Job } from '../domain/job.js';
import type { Principal } from '../domain/principal.js';
import {
  emptyApplied, emptyCounts, holdReasons, type StoredProblem, type SyncAction, type SyncCounts, type SyncItem, type SyncOptions, type SyncRun, type SyncRunStatus, type SyncWarning,
} from '../domain/sync-run.js';
import { planTransition } from '../domain/user-lifecycle.js';
import type { User } from '../domain/user.js';
import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import type { Store } from '../repositories/store.js';
import type { SyncRunListQuery } from '../repositories/sync-run-repository.js';
import type { BulkService } from './bulk-service.js';
import { transitionUser } from './commands/user-commands.js';
import type { UnitOfWork, UnitRunner } from './unit-of-work.js';


/** Most rows one upload call (and one non-staged create) takes. */
export const MAX_SYNC_ROWS_PER_CALL = 10_000;

/** Lifecycle events: the latest one says who last moved a user's status. */
const STATUS_EVENTS = ['user.suspended', 'user.activated', 'user.staged', 'user.invited', 'user.locked', 'user.unlocked', 'user.deprovisioned', 'user.deprovisioning'];

export interface NewSyncRun {
  origin: string;
  options: SyncOptions;
  /** Rows of the snapshot sent with the run (more may follow while it is `receiving`). */
  rows: readonly Record<string, unknown>[];
  /** Keep receiving rows (POST …/users) until POST …/plan; otherwise plan at once. */
  staged: boolean;
}

/**
 * Directory sync runs: a source's complete list of its people is received, planned (exactly what
 * the bulk upsert would do, found by running it and rolling it back, plus the suspension of the
 * origin's users the list omits), reviewed, and applied as a job. Safeguards hold a plan that
 * suspends too many, changes too much, or comes from an empty list. The apply writes each item
 * only if its user has not changed since the plan, and records each item's outcome in the same
 * transaction as its change, so an apply killed half-way resumes where it stopped.
 */
export class SyncService {
  constructor(
    private readonly store: Store,
    private readonly units: UnitRunner,
    private readonly bulk: BulkService,
    private readonly clock: Clock,
  ) {}

  /** Creates a run with its first rows; plans it unless `staged` (then it receives more rows). */
  async create(principal: Principal, request: NewSyncRun): Promise<SyncRun> {
    const now = this.clock.now().toISOString();
    const run: SyncRun = {
      id: newId(),
      tenantId: principal.tenantId,
      origin: request.origin,
      status: 'receiving',
      options: request.options,
      received: 0,
      counts: null,
      applied: null,
      heldReasons: [],
      jobId: null,
      actorType: principal.actorType,
      actorId: principal.actorId,
      version: 1,
      createdAt: now,
      updatedAt: now,
      plannedAt: null,
      appliedAt: null,
    };
    await this.store.transaction(async (repos) => {
      await repos.syncRuns.insert(run);
      await repos.syncRuns.appendRows(run.id, 1, request.rows.map((row) => ({ key: row.key as string, row })));
      run.received = request.rows.length;
      await repos.syncRuns.update(run, run.version);
    });
    return request.staged ? run : this.plan(principal, run.id);
  }

  /** Appends rows to a run that is receiving; returns how many it has received in all. */
  async appendRows(principal: Principal, id: string, rows: readonly Record<string, unknown>[]): Promise<SyncRun> {
    return this.store.transaction(async (repos) => {
      const run = await this.load(repos.syncRuns, principal, id, true);
      requireStatus(run, ['receiving'], 'receive rows');
      await repos.syncRuns.appendRows(run.id, run.received + 1, rows.map((row) => ({ key: row.key as string, row })));
      return this.save(repos.syncRuns, run, { received: run.received + rows.length });
    });
  }

  async get(principal: Principal, id: string): Promise<SyncRun> {
    return this.load(this.store.repos.syncRuns, principal, id);
  }

  async list(principal: Principal, query: SyncRunListQuery): Promise<SyncRun[]> {
    return this.store.repos.syncRuns.list(principal.tenantId, query);
  }

  async items(principal: Principal, id: string, query: { action?: SyncAction | undefined; afterSeq: number; limit: number }): Promise<SyncItem[]> {
    await this.get(principal, id);
    return this.store.repos.syncRuns.items(id, query);
  }

  /**
   * Plans the run against the directory as it is now (again, if it was planned before): every
   * snapshot row as the bulk upsert would write it (run and rolled back, chunk by chunk, so the
   * plan is exactly what applying would do), users of the origin it omits suspended when
   * `missing` is `suspend`, a user suspended by an earlier run of this origin and listed again
   * reactivated. Then `planned`, or `held` with the reasons.
   */
  async plan(principal: Principal, id: string): Promise<SyncRun> {
    const run = await this.store.transaction(async (repos) => {
      const current = await this.load(repos.syncRuns, principal, id, true);
      requireStatus(current, ['receiving', 'planning', 'planned', 'held'], 'be planned');
      await repos.syncRuns.deleteItems(id);
      return this.save(repos.syncRuns, current, { status: 'planning', counts: null, heldReasons: [] });
    });
    const items = await this.planRows(principal, run);
    if (run.options.missing === 'suspend') items.push(...(await this.planMissing(principal, run, items.length)));
    const counts = emptyCounts();
    for (const item of items) counts[item.action === 'error' ? 'errors' : item.action] += 1;
    // The plan belongs to the version of the run that started it: a plan started after it (or a
    // discard) moves the version, and this one then stops with a 409 instead of mixing its items in.
    const stillMine = async (repos: Store['repos']) => {
      const current = await this.load(repos.syncRuns, principal, id, true);
      if (current.version !== run.version) throw new AppError('sync_run.wrong_status', `The sync run was planned again or changed (now ${current.status}) while this plan was being made; this plan was dropped.`);
      return current;
    };
    for (let i = 0; i < items.length; i += 1000) {
      await this.store.transaction(async (repos) => {
        await stillMine(repos);
        await repos.syncRuns.insertItems(items.slice(i, i + 1000));
      });
      await yieldToEventLoop();
    }
    const active = await this.store.repos.syncRuns.activeUsersOfOrigin(principal.tenantId, run.origin);
    const reasons = holdReasons(counts, run.options, run.received, active);
    return this.store.transaction(async (repos) => {
      const current = await stillMine(repos);
      return this.save(repos.syncRuns, current, { status: reasons.length > 0 ? 'held' : 'planned', counts, heldReasons: reasons, plannedAt: this.clock.now().toISOString() });
    });
  }

  /** Items for the snapshot rows, in the order received. */
  private async planRows(principal: Principal, run: SyncRun): Promise<SyncItem[]> {
    const stored: { seq: number; row: Record<string, unknown> }[] = [];
    for (let after = 0; ; ) {
      const page = await this.store.repos.syncRuns.rows(run.id, after, 5000);
      if (page.length === 0) break;
      stored.push(...page);
      after = (page.at(-1) as { seq: number }).seq;
    }
    const rows = stored.map((s) => toBulkRow(s.row));
    const { reactivating, warnings } = await this.reappearing(principal, run, rows);
    const outcomes = await this.bulk.runBatch(principal, { origin: run.origin, mode: 'upsert', rows, dryRun: true, capture: true });
    addEmailWarnings(rows, warnings);
    return outcomes.map((outcome, index) => {
      const row = rows[index] as BulkRow;
      const changes: FieldChanges = outcome.changes ?? {};
      let action: SyncAction = outcome.status === 'added' ? 'create' : outcome.status === 'updated' ? 'update' : outcome.status === 'unchanged' ? 'unchanged' : 'error';
      if (action === 'update' && reactivating.has(index) && changes.status !== undefined) action = 'reactivate';
      const rowWarnings = warnings.get(index) ?? [];
      if (outcome.status === 'error' && outcome.error.code === 'user.username_taken') {
        rowWarnings.push({ code: 'owned_elsewhere', message: 'A user with this userName exists without this origin\'s key (created by hand, by SCIM or by another source); add the key to that user\'s externalIds to let this source manage it.' });
      }
      return {
        runId: run.id,
        seq: index + 1,
        key: row.key,
        rowSeq: (stored[index] as { seq: number }).seq,
        userId: outcome.status === 'added' ? null : outcome.id,
        action,
        baseVersion: outcome.baseVersion ?? null,
        changes,
        warnings: rowWarnings,
        error: outcome.status === 'error' ? storedProblem(outcome.error) : null,
        outcome: null,
        outcomeError: null,
      };
    });
  }

  /**
   * Rows whose user is suspended: reactivated (the row gets `status: active`) when the user's
   * latest lifecycle change was a suspension by a sync run of this origin, i.e. the source had
   * dropped them and now lists them again. A user suspended by anyone else stays suspended, with
   * a warning: a source listing a person does not overrule an admin's suspension.
   */
  private async reappearing(principal: Principal, run: SyncRun, rows: BulkRow[]): Promise<{ reactivating: Set<number>; warnings: Map<number, SyncWarning[]> }> {
    const reactivating = new Set<number>();
    const warnings = new Map<number, SyncWarning[]>();
    const { repos } = this.store;
    const users = await repos.users.findByExternalKeys(principal.tenantId, run.origin, rows.map((r) => r.key));
    const suspended = [...users.values()].filter((u) => u.status === 'suspended');
    if (suspended.length === 0) return { reactivating, warnings };
    const latest = await repos.events.latestOfResources(principal.tenantId, 'user', suspended.map((u) => u.id), STATUS_EVENTS);
    const runIds = [...latest.values()].map((e) => e.context.syncRunId).filter((r): r is string => r !== undefined);
    const ofOrigin = await repos.syncRuns.runsOfOrigin(principal.tenantId, runIds, run.origin);
    rows.forEach((row, index) => {
      const user = users.get(rowKey(row.key));
      if (user?.status !== 'suspended' || row.fields.status !== undefined) return;
      const event = latest.get(user.id);
      if (event?.type === 'user.suspended' && event.context.syncRunId !== undefined && ofOrigin.has(event.context.syncRunId)) {
        row.fields = { ...row.fields, status: 'active' };
        reactivating.add(index);
      } else {
        warnings.set(index, [{ code: 'suspended_elsewhere', message: 'The user is suspended, but not by a sync of this origin; it stays suspended (send status to change it).' }]);
      }
    });
    return { reactivating, warnings };
  }

  /** Items for the origin's users the snapshot omits: suspend them (never one with preventDeprovision). */
  private async planMissing(principal: Principal, run: SyncRun, firstSeq: number): Promise<SyncItem[]> {
    const items: SyncItem[] = [];
    for (let after = ''; ; ) {
      const page = await this.store.repos.syncRuns.usersMissingFrom(principal.tenantId, run.id, run.origin, after, 1000);
      if (page.length === 0) break;
      for (const { key, user } of page) items.push(missingItem(run, firstSeq + items.length + 1, key, user));
      after = (page.at(-1) as { user: User }).user.id;
      await yieldToEventLoop();
    }
    return items;
  }

  /**
   * Starts applying the plan as a job (202): `planned` runs, or `held` ones with `force`.
   * Errors: 409 sync_run.held (without force), 409 sync_run.wrong_status.
   */
  async apply(principal: Principal, id: string, force: boolean): Promise<SyncRun> {
    return this.units.within(principal, async (unit) => {
      const run = await this.load(unit.repos.syncRuns, principal, id, true);
      if (run.status === 'held' && !force) {
        throw new AppError('sync_run.held', `The plan is held: ${run.heldReasons.join(' ')} Review it (GET /v1/sync-runs/${id}/items) and apply with ?force=true.`);
      }
      requireStatus(run, ['planned', 'held'], 'be applied');
      const job = await unit.enqueue({ type: SYNC_APPLY_JOB, payload: { runId: id }, uniqueKey: `sync-run:${run.tenantId}:${id}` });
      return this.save(unit.repos.syncRuns, run, { status: 'applying', jobId: job.id, applied: emptyApplied() });
    });
  }

  /** Discards a run that is not being applied: its rows and plan are deleted. */
  async discard(principal: Principal, id: string): Promise<void> {
    await this.store.transaction(async (repos) => {
      const run = await this.load(repos.syncRuns, principal, id, true);
      requireStatus(run, ['receiving', 'planning', 'planned', 'held', 'applied', 'failed'], 'be discarded');
      await repos.syncRuns.deleteItems(id);
      await repos.syncRuns.deleteRows(id);
      await this.save(repos.syncRuns, run, { status: 'discarded' });
    });
  }

  /**
   * The job: applies every item that has no outcome yet, in chunks of one unit each (the writes,
   * their events with the run id, and the items' outcomes commit together), then records the
   * counts. Run again after a crash, it continues with the items left.
   */
  async runApplyJob(job: Job, progress: (p: unknown) => Promise<void>, signal: AbortSignal): Promise<unknown> {
    try {
      return await this.applyPending(job, progress, signal);
    } catch (error) {
      // The job's last attempt: the run must not stay `applying` forever. What was applied stays
      // applied (and counted); the rest of the items keep no outcome.
      if (job.attempts >= job.maxAttempts) await this.markFailed(job).catch(() => undefined);
      throw error;
    }
  }

  private async markFailed(job: Job): Promise<void> {
    const { runId } = job.payload as { runId: string };
    await this.store.transaction(async (repos) => {
      const run = await repos.syncRuns.findById(job.tenantId as string, runId, true);
      if (run?.status === 'applying') await this.save(repos.syncRuns, run, { status: 'failed' });
    });
  }

  private async applyPending(job: Job, progress: (p: unknown) => Promise<void>, signal: AbortSignal): Promise<unknown> {
    const { runId } = job.payload as { runId: string };
    const tenantId = job.tenantId as string;
    const run = await this.store.repos.syncRuns.findById(tenantId, runId);
    if (!run || run.status !== 'applying') return { skipped: true };
    const principal: Principal = { tenantId, scopes: [], actorType: run.actorType as Principal['actorType'], actorId: run.actorId ?? 'sync', context: { syncRunId: run.id, jobId: job.id } };
    const pending: SyncItem[] = [];
    for (let after = 0; ; ) {
      const page = await this.store.repos.syncRuns.pendingItems(run.id, after, 5000);
      if (page.length === 0) break;
      pending.push(...page);
      after = (page.at(-1) as SyncItem).seq;
    }
    const total = pending.length;
    let done = 0;
    await progress({ done, total });
    const writes = pending.filter((i) => i.action !== 'suspend');
    if (writes.length > 0) {
      const stored = await this.store.repos.syncRuns.rowsAt(run.id, writes.map((i) => i.rowSeq as number));
      const rows = writes.map((i) => toBulkRow(stored.get(i.rowSeq as number) ?? { key: i.key }));
      const expected = new Map(writes.map((i, k) => [rowKey((rows[k] as BulkRow).key), i.baseVersion]));
      const reactivate = writes.map((i) => i.action === 'reactivate');
      rows.forEach((row, k) => {
        if (reactivate[k] && row.fields.status === undefined) row.fields = { ...row.fields, status: 'active' };
      });
      const recorded = new Set<number>();
      const outcomes = await this.bulk.runBatch(principal, { origin: run.origin, mode: 'upsert', rows, dryRun: false, expected }, async (unit, chunk) => {
        if (signal.aborted) throw signal.reason;
        await unit.repos.syncRuns.setOutcomes(run.id, chunk.map((o) => itemOutcome(writes[o.index] as SyncItem, o)));
        chunk.forEach((o) => recorded.add(o.index));
      });
      const refused = outcomes.filter((o) => !recorded.has(o.index));
      if (refused.length > 0) await this.store.transaction((repos) => repos.syncRuns.setOutcomes(run.id, refused.map((o) => itemOutcome(writes[o.index] as SyncItem, o))));
      done += writes.length;
      await progress({ done, total });
    }
    const suspends = pending.filter((i) => i.action === 'suspend');
    for (let i = 0; i < suspends.length; i += this.bulk.chunkRows) {
      if (signal.aborted) throw signal.reason;
      const chunk = suspends.slice(i, i + this.bulk.chunkRows);
      await this.units.within(principal, async (unit) => {
        const outcomes = [];
        for (const item of chunk) outcomes.push(await suspendItem(unit, item));
        await unit.repos.syncRuns.setOutcomes(run.id, outcomes);
      });
      done += chunk.length;
      await progress({ done, total });
      await yieldToEventLoop();
    }
    return this.finish(tenantId, run.id);
  }

  /** Counts what was applied (from the items, so a resumed apply counts right) and closes the run. */
  private async finish(tenantId: string, id: string): Promise<unknown> {
    return this.store.transaction(async (repos) => {
      const run = await repos.syncRuns.findById(tenantId, id, true);
      if (!run || run.status !== 'applying') return { skipped: true };
      const applied = emptyApplied();
      for (const { action, outcome, n } of await repos.syncRuns.outcomeCounts(id)) {
        if (outcome === 'failed') applied.failed += n;
        else if (action in applied) applied[action as keyof typeof applied] += n;
      }
      await this.save(repos.syncRuns, run, { status: 'applied', applied, appliedAt: this.clock.now().toISOString() });
      return { applied };
    });
  }

  private async load(repo: Store['repos']['syncRuns'], principal: Principal, id: string, lock = false): Promise<SyncRun> {
    const run = await repo.findById(principal.tenantId, id, lock);
    if (!run || run.status === 'discarded') throw new AppError('sync_run.not_found', `No sync run with id ${id}.`);
    return run;
  }

  /** Writes the run's changed fields with a new version; the run was locked by `load`. */
  private async save(repo: Store['repos']['syncRuns'], run: SyncRun, changes: Partial<SyncRun>): Promise<SyncRun> {
    const next: SyncRun = { ...run, ...changes, version: run.version + 1, updatedAt: this.clock.now().toISOString() };
    if (!(await repo.update(next, run.version))) throw new AppError('sync_run.wrong_status', 'The sync run was changed by another request meanwhile; read it again.');
    return next;
  }
}

function requireStatus(run: SyncRun, allowed: readonly SyncRunStatus[], what: string): void {
  if (!allowed.includes(run.status)) {
    throw new AppError('sync_run.wrong_status', `The sync run is ${run.status}; only a run that is ${allowed.join(', ')} can ${what}.`);
  }
}

function itemOutcome(item: SyncItem, outcome: BulkRowOutcome): { seq: number; outcome: 'applied' | 'failed'; error: StoredProblem | null } {
  return outcome.status === 'error' ? { seq: item.seq, outcome: 'failed', error: storedProblem(outcome.error) } : { seq: item.seq, outcome: 'applied', error: null };
}

function missingItem(run: SyncRun, seq: number, key: string, user: User): SyncItem {
  const base = { runId: run.id, seq, key, rowSeq: null, userId: user.id, baseVersion: user.version, error: null, outcome: null, outcomeError: null };
  const plan = planTransition(user.status, 'suspended', 'client');
  if (user.preventDeprovision && plan.kind === 'move') {
    return { ...base, action: 'unchanged', changes: {}, warnings: [{ code: 'prevent_deprovision', message: 'Missing from the snapshot, but preventDeprovision is set: not suspended.' }] };
  }
  if (plan.kind === 'move') return { ...base, action: 'suspend', changes: { status: { from: user.status, to: 'suspended' } }, warnings: [] };
  const warnings = plan.kind === 'refused' ? [{ code: 'cannot_suspend', message: `Missing from the snapshot, but a ${user.status} user cannot be suspended.` }] : [];
  return { ...base, action: 'unchanged', changes: {}, warnings };
}

/** Suspends one missing user if it is still as planned (same version, no preventDeprovision). */
async function suspendItem(unit: UnitOfWork, item: SyncItem): Promise<{ seq: number; outcome: 'applied' | 'failed'; error: StoredProblem | null }> {
  const result = await unit.attempt(async (u) => {
    const user = await u.repos.users.findByIdForUpdate(u.tenantId, item.userId as string);
    if (!user || user.version !== item.baseVersion) {
      throw new AppError('sync_run.drift', `The user changed after the plan was made (it was at version ${item.baseVersion}; now ${user ? `version ${user.version}` : 'deleted'}); not suspended.`);
    }
    if (user.preventDeprovision) throw new AppError('bulk.deprovision_prevented', 'preventDeprovision was set after the plan was made; not suspended.');
    return transitionUser(user.id, 'suspended', item.baseVersion ?? undefined)(u);
  });
  return result.ok ? { seq: item.seq, outcome: 'applied', error: null } : { seq: item.seq, outcome: 'failed', error: storedProblem(result.error as AppError) };
}

/** Warns about rows sharing an email with another row of the snapshot (the usual HR copy-paste slip). */
function addEmailWarnings(rows: readonly BulkRow[], warnings: Map<number, SyncWarning[]>): void {
  const byEmail = new Map<string, number[]>();
  rows.forEach((row, index) => {
    const email = row.fields.email;
    if (typeof email !== 'string' || email === '') return;
    const k = email.trim().toLowerCase();
    byEmail.set(k, [...(byEmail.get(k) ?? []), index]);
  });
  for (const indexes of byEmail.values()) {
    if (indexes.length < 2) continue;
    for (const index of indexes) {
      const others = indexes.filter((i) => i !== index).slice(0, 5);
      warnings.set(index, [...(warnings.get(index) ?? []), { code: 'duplicate_email', message: `Rows ${others.map((i) => i + 1).join(', ')} of the snapshot have the same email.` }]);
    }
  }
}

export type { SyncCounts };
