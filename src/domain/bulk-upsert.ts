import type { AppError } from '../errors/app-error.js';
import { ENVIRONMENT_PERMISSIONS, type EnvironmentPermission } from './membership.js';
import { identifierKey } from './identifier-key.js';
import { isUuid } from '../lib/ids.js';
import type { ExternalId } from './user.js';
import type { FieldChanges } from './event.js';

/*
 * Bulk upsert and directory sync, in protocol-neutral terms: a row is a partial user identified
 * by (origin, key), with references that name their targets by id, name, code, userName or
 * external id. Pure: the planning order and the in-batch cycle check live here; resolving and
 * writing live in src/services/commands/bulk-upsert-command.ts.
 */

/** upsert: create absent users, update present ones; create: present ones are errors; update: absent ones are errors. */
export type BulkMode = 'upsert' | 'create' | 'update';

/**
 * What a reference names. A string is an id when it is a UUID, otherwise a name (an
 * organization's code; for a manager a key of the batch's origin first, then a userName).
 */
export type Reference = string | { id: string } | { name: string } | { code: string } | { userName: string } | ExternalId;

/** The relations a row may set; each list is a full replace when sent. */
export const ROW_REFERENCE_FIELDS = ['manager', 'position', 'area', 'groups', 'roles', 'organizations', 'environments'] as const;
export type RowReferenceField = (typeof ROW_REFERENCE_FIELDS)[number];

/** The id field each single reference stands for (sending both is an error of the row). */
export const SINGLE_REFERENCE_IDS = { manager: 'managerId', position: 'positionId', area: 'areaId' } as const;

/** An environment and what the user may do in it. */
export interface EnvironmentGrant {
  environment: Reference;
  permissions: EnvironmentPermission[] | undefined;
}

/** One row, split into the user's own fields (a merge patch) and its references. */
export interface BulkRow {
  key: string;
  /** User fields as a merge patch: only those present change; null clears. */
  fields: Record<string, unknown>;
  manager?: Reference | null;
  position?: Reference | null;
  area?: Reference | null;
  groups?: Reference[];
  roles?: Reference[];
  organizations?: Reference[];
  environments?: EnvironmentGrant[];
}

/** Permissions as a list, or Barium's booleans (`{view: true, run: true}`): always a list. */
export function permissionList(value: unknown): EnvironmentPermission[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value as EnvironmentPermission[];
  const flags = value as Partial<Record<EnvironmentPermission, boolean>>;
  return ENVIRONMENT_PERMISSIONS.filter((p) => flags[p] === true);
}

/** A row as sent (key, user fields and references side by side) → BulkRow. */
export function toBulkRow(sent: Record<string, unknown>): BulkRow {
  const { key, manager, position, area, groups, roles, organizations, environments, ...fields } = sent;
  const row: BulkRow = { key: key as string, fields };
  if (manager !== undefined) row.manager = manager as Reference | null;
  if (position !== undefined) row.position = position as Reference | null;
  if (area !== undefined) row.area = area as Reference | null;
  if (groups !== undefined) row.groups = groups as Reference[];
  if (roles !== undefined) row.roles = roles as Reference[];
  if (organizations !== undefined) row.organizations = organizations as Reference[];
  if (environments !== undefined) {
    row.environments = (environments as { environment: Reference; permissions?: unknown }[]).map((e) => ({ environment: e.environment, permissions: permissionList(e.permissions) }));
  }
  return row;
}

/** Whether the row sets any membership list (such rows are written one at a time). */
export const setsMemberships = (row: BulkRow): boolean =>
  row.groups !== undefined || row.roles !== undefined || row.organizations !== undefined || row.environments !== undefined;

/** The comparison form of a row key (as external ids compare). */
export const rowKey = (key: string): string => identifierKey(key);

/**
 * The batch key a manager reference names, if it names one: a non-UUID string that is a key of
 * the batch, or `{origin, key}` of the batch's origin whose key is in the batch.
 */
export function managerKeyInBatch(ref: Reference | null | undefined, origin: string, keys: { has(key: string): boolean }): string | undefined {
  if (ref === null || ref === undefined) return undefined;
  if (typeof ref === 'string') {
    if (isUuid(ref)) return undefined;
    const k = rowKey(ref);
    return keys.has(k) ? k : undefined;
  }
  if ('origin' in ref && identifierKey(ref.origin) === identifierKey(origin)) {
    const k = rowKey(ref.key);
    return keys.has(k) ? k : undefined;
  }
  return undefined;
}

/** The order rows are written in, and the rows refused before any write. */
export interface BatchOrder {
  /** Row indexes, every manager named by key before the rows that name it. */
  order: number[];
  /** Rows whose in-batch managers form a cycle (each row of the cycle), and rows repeating an earlier key. */
  cycles: Set<number>;
  repeats: Map<number, number>;
}

/**
 * Orders a batch so that a manager given by key is written before its reports (depth first from
 * each row along its manager chain within the batch), finds rows whose in-batch manager chain
 * loops (every row on the loop is refused: none of them can be written without the others), and
 * rows repeating a key of an earlier row (refused: one row per key).
 */
export function orderBatch(rows: readonly BulkRow[], origin: string): BatchOrder {
  const first = new Map<string, number>();
  const repeats = new Map<number, number>();
  rows.forEach((row, i) => {
    const k = rowKey(row.key);
    const earlier = first.get(k);
    if (earlier === undefined) first.set(k, i);
    else repeats.set(i, earlier);
  });
  const keys = new Set(first.keys());
  const managerOf = (i: number): number | undefined => {
    const k = managerKeyInBatch(rows[i]?.manager, origin, keys);
    return k === undefined ? undefined : first.get(k);
  };
  const state = new Uint8Array(rows.length); // 0 new, 1 on the current path, 2 placed
  const order: number[] = [];
  const cycles = new Set<number>();
  for (let start = 0; start < rows.length; start++) {
    if (repeats.has(start) || state[start] === 2) continue;
    // Walk up the chain to a row already placed, the batch's edge, or a loop.
    const path: number[] = [];
    let at: number | undefined = start;
    while (at !== undefined && state[at] === 0) {
      state[at] = 1;
      path.push(at);
      at = managerOf(at);
    }
    if (at !== undefined && state[at] === 1) {
      // `at` is on this path: everything from it onwards is a loop.
      for (const i of path.slice(path.indexOf(at))) cycles.add(i);
    }
    // Place the path from the top of the chain down; rows reporting into a loop wait on it and
    // are written after (their manager is refused, so they fail with manager_not_found).
    for (const i of path.reverse()) {
      state[i] = 2;
      if (!cycles.has(i)) order.push(i);
    }
  }
  return { order, cycles, repeats };
}

/** What happened to one row of a bulk upsert: its user and status, or its error (nothing of the row was written). */
export type BulkRowOutcome = (
  | { index: number; status: 'added' | 'updated' | 'unchanged'; id: string }
  | { index: number; status: 'error'; id: string | null; error: AppError }
) & {
  /** With `capture` (sync plans): the user's version before the row (null: no user), and what the row changed. */
  baseVersion?: number | null;
  changes?: FieldChanges;
  /** In a dry run: the unique values (userName, external ids) the row's user holds afterwards. */
  claims?: UniqueClaims;
};

/** The values of a user that are unique per tenant: what a later row of a dry run may collide with. */
export interface UniqueClaims {
  userId: string;
  isNew: boolean;
  userName: string;
  externalIds: ExternalId[];
  /** An existing user whose userName or external ids the row changed (its old values are free afterwards). */
  changedIdentifiers: boolean;
}

/** The comparison keys of unique values: `u␀<userName>` and `e␀<origin>␀<key>`. */
export const userNameClaim = (userName: string): string => `u\u0000${identifierKey(userName)}`;
export const externalIdClaim = (e: ExternalId): string => `e\u0000${identifierKey(e.origin)}\u0000${identifierKey(e.key)}`;

export interface BulkUpsertResult {
  added: number;
  updated: number;
  unchanged: number;
  errors: number;
  dryRun: boolean;
  /** One outcome per row, in request order; a dry run's new users have no id (null). */
  rows: BulkRowOutcome[];
}

/** A user to disable: by id, or by its external id. */
export type DisableTarget = { id: string } | ExternalId;

/** What happened to one user of a bulk disable. */
export type DisableOutcome =
  | { index: number; id: string; status: 'disabled' | 'unchanged' }
  | { index: number; id: string | null; status: 'error'; error: AppError };

export interface BulkDisableResult {
  disabled: number;
  unchanged: number;
  errors: number;
  dryRun: boolean;
  rows: DisableOutcome[];
}
