import type { FieldChanges } from './event.js';

/*
 * Directory sync runs: a source's complete, authoritative list of its people (a snapshot), the
 * plan that brings Roster in line with it, and the apply of exactly that plan. Pure: the types,
 * the safeguards that hold a plan, and how a run moves between statuses.
 */

/**
 * receiving: rows are being uploaded (staged runs); planning: a plan is being made (a plan
 * killed half-way leaves this status; planning again starts over); planned: the plan is ready to review and
 * apply; held: the plan trips a safeguard and applies only when forced; applying: a job applies
 * it; applied and failed are final, as is discarded (its rows and plan are gone).
 */
export const SYNC_RUN_STATUSES = ['receiving', 'planning', 'planned', 'held', 'applying', 'applied', 'failed', 'discarded'] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];

/** What a plan does to one user: the item actions. */
export const SYNC_ACTIONS = ['create', 'update', 'reactivate', 'suspend', 'unchanged', 'error'] as const;
export type SyncAction = (typeof SYNC_ACTIONS)[number];

/** Actions that write something when applied. */
export const WRITING_ACTIONS: readonly SyncAction[] = ['create', 'update', 'reactivate', 'suspend'];

export type SyncCounts = Record<'create' | 'update' | 'reactivate' | 'suspend' | 'unchanged' | 'errors', number>;
/** What an apply did: the items applied per action, and those that failed (drift, a rule). */
export type AppliedCounts = Record<'create' | 'update' | 'reactivate' | 'suspend' | 'failed', number>;

export interface SyncOptions {
  /** What happens to users of the origin the snapshot omits. */
  missing: 'suspend' | 'ignore';
  /** Most suspensions a plan may hold before it is held: a count, or a percentage ("5%") of the origin's active users. */
  maxDeactivations: number | string | null;
  /** Most writing items (create, update, reactivate, suspend) before the plan is held. */
  maxChanges: number | null;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = { missing: 'ignore', maxDeactivations: null, maxChanges: null };

export interface SyncRun {
  id: string;
  tenantId: string;
  origin: string;
  status: SyncRunStatus;
  options: SyncOptions;
  /** Snapshot rows received so far. */
  received: number;
  counts: SyncCounts | null;
  applied: AppliedCounts | null;
  /** Why the plan is held (empty unless held). */
  heldReasons: string[];
  jobId: string | null;
  /** Who created the run: its apply acts as them (events name them, with the run id). */
  actorType: string;
  actorId: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  plannedAt: string | null;
  appliedAt: string | null;
}

import type { StoredProblem } from '../errors/app-error.js';

export type { StoredProblem };

export interface SyncWarning {
  code: string;
  message: string;
}

export interface SyncItem {
  runId: string;
  /** Position in the plan: snapshot rows first (in the order received), then the users it omits. */
  seq: number;
  key: string;
  rowSeq: number | null;
  userId: string | null;
  action: SyncAction;
  /** The user's version when planned; null when there was no user. */
  baseVersion: number | null;
  /** Field-level before/after of what the item changes (user fields, status, membership lists). */
  changes: FieldChanges;
  warnings: SyncWarning[];
  error: StoredProblem | null;
  outcome: 'applied' | 'failed' | null;
  outcomeError: StoredProblem | null;
}

/** The maximum suspensions `maxDeactivations` allows, given the origin's active users. */
export function deactivationLimit(option: number | string | null, activeUsers: number): number | null {
  if (option === null) return null;
  if (typeof option === 'number') return option;
  const percent = Number(option.slice(0, -1));
  return Math.floor((activeUsers * percent) / 100);
}

/**
 * Why a plan must be held (empty: it may apply): an empty snapshot always (a broken export must
 * never suspend everyone), more suspensions than maxDeactivations, more changes than maxChanges.
 */
export function holdReasons(counts: SyncCounts, options: SyncOptions, received: number, activeUsers: number): string[] {
  const reasons: string[] = [];
  if (received === 0) reasons.push('The snapshot is empty: an empty list from a source is far more often a broken export than a company with nobody left.');
  const limit = deactivationLimit(options.maxDeactivations, activeUsers);
  if (limit !== null && counts.suspend > limit) {
    reasons.push(`The plan suspends ${counts.suspend} users; maxDeactivations allows ${limit}${typeof options.maxDeactivations === 'string' ? ` (${options.maxDeactivations} of ${activeUsers} active users of this origin)` : ''}.`);
  }
  const changes = counts.create + counts.update + counts.reactivate + counts.suspend;
  if (options.maxChanges !== null && changes > options.maxChanges) reasons.push(`The plan makes ${changes} changes; maxChanges allows ${options.maxChanges}.`);
  return reasons;
}

export const emptyCounts = (): SyncCounts => ({ create: 0, update: 0, reactivate: 0, suspend: 0, unchanged: 0, errors: 0 });
export const emptyApplied = (): AppliedCounts => ({ create: 0, update: 0, reactivate: 0, suspend: 0, failed: 0 });
