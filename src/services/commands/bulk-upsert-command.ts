import { AppError } from '../../errors/app-error.js';
import { identifierKey } from '../../domain/identifier-key.js';
import {
  externalIdClaim, managerKeyInBatch, rowKey, setsMemberships, userNameClaim, type BulkMode, type BulkRow, type BulkRowOutcome, type UniqueClaims,
} from '../../domain/bulk-upsert.js';
import type { DomainEvent, FieldChanges } from '../../domain/event.js';
import type { ExternalId, User, UserInput } from '../../domain/user.js';
import { USER_UNCLEARABLE_FIELDS } from '../../domain/user-fields.js';
import type { RowOutcome, UnitOfWork } from '../unit-of-work.js';
import { applyMergePatch, buildUser, withinFreeJsonLimits, writableFields } from '../user-rules.js';
import { replaceMemberships } from './membership-commands.js';
import { resolveReferences, type BatchIds, type ResolvedReferences } from './reference-resolver.js';
import { createUser, createUsers, updateLoadedUser, updateUser, type NewUserRow } from './user-commands.js';

/** A batch as the chunks see it: its rows, how they are matched, and the ids of its rows so far. */
export interface BulkBatch extends BatchIds {
  mode: BulkMode;
  rows: readonly BulkRow[];
  /** Every row key of the batch (comparison form) → its user's id: found, or planned for a new user. */
  ids: Map<string, string>;
  phantom: Set<string>;
  /** Report each row's base version and field-level changes (a sync plan shows them). */
  capture?: boolean;
  /**
   * The version each row's user must still be at (null: there must still be no user), by row key
   * in comparison form: a sync apply refuses a row whose user changed after it was planned.
   */
  expected?: ReadonlyMap<string, number | null>;
  /**
   * A dry run: each chunk is rolled back before the next, so what earlier chunks would have
   * written is replayed where a later row meets it (the unique values in `claims`, by claim key;
   * users that changed their unique values in `renamed`), and every outcome reports its claims.
   */
  dryRun?: boolean;
  claims?: Map<string, UniqueClaims>;
  renamed?: Map<string, UniqueClaims>;
}

/**
 * Writes some rows of a batch (a chunk) in the caller's unit, in the order given (managers named
 * by key come first: orderBatch). Every row is applied whole or not at all, and one row's error
 * never touches another: new users without memberships are inserted together (createUsers, one
 * multi-row statement per 200 rows; a row that fails there is simply not inserted), a plain
 * update that can neither collide on a unique value nor touch memberships runs without a
 * savepoint (it writes only at its end), every other row in its own savepoint (UnitOfWork.attempt). The users of the chunk are locked first
 * (in id order) and the references resolved in one query per kind. A row that changes nothing
 * writes nothing: no event, same version. Outcomes come back in the order of `indexes`.
 */
export function upsertRows(batch: BulkBatch, indexes: readonly number[]): (unit: UnitOfWork) => Promise<BulkRowOutcome[]> {
  return async (unit) => {
    const rows = indexes.map((i) => batch.rows[i] as BulkRow);
    const existing = await unit.repos.users.findByExternalKeys(unit.tenantId, batch.origin, rows.map((r) => r.key), true);
    for (const [key, user] of existing) batch.ids.set(key, user.id);
    if (batch.dryRun) await replayEarlierChunks(unit, batch, rows, existing);
    const references = await resolveReferences(unit, batch, rows);
    const outcomes = new Map<number, BulkRowOutcome>();
    const round: { index: number; row: NewUserRow }[] = [];
    const touched = new Set<string>();
    const inRound = new Set<string>();
    const flush = async () => {
      if (round.length === 0) return;
      const { value: created, events } = await createUsers(round.map((r) => r.row))(unit);
      await unit.repos.events.append(events);
      const changesOf = batch.capture ? new Map(events.map((e) => [e.resourceId, e.changes])) : undefined;
      created.forEach((outcome, at) => {
        const { index } = round[at] as { index: number };
        const captured = changesOf ? { baseVersion: null, changes: outcome.ok ? changesOf.get(outcome.value.id) ?? {} : {} } : {};
        const claims = batch.dryRun && outcome.ok ? { claims: claimsOf(outcome.value, true) } : {};
        outcomes.set(index, outcome.ok ? { index, status: 'added', id: outcome.value.id, ...captured, ...claims } : { index, status: 'error', id: null, error: outcome.error as AppError, ...captured });
      });
      round.length = 0;
      inRound.clear();
    };

    for (const [at, index] of indexes.entries()) {
      const row = rows[at] as BulkRow;
      const key = rowKey(row.key);
      const current = existing.get(key);
      const resolved = references[at] as ResolvedReferences | AppError;
      const refused = resolved instanceof AppError ? resolved : (modeError(batch, row, current) ?? driftError(batch, row, current));
      const base = batch.capture ? { baseVersion: current?.version ?? null } : {};
      if (refused) {
        outcomes.set(index, { index, status: 'error', id: current?.id ?? null, error: refused, ...base });
        continue;
      }
      const managerKey = managerKeyInBatch(row.manager, batch.origin, batch.ids);
      if (managerKey !== undefined && inRound.has(managerKey)) await flush();
      const id = current?.id ?? (batch.ids.get(key) as string);
      if (!current && !setsMemberships(row)) {
        try {
          round.push({ index, row: { input: createInput(batch, row, resolved as ResolvedReferences), options: { id } } });
          inRound.add(key);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          outcomes.set(index, { index, status: 'error', id: null, error });
        }
        continue;
      }
      // A row writes its user at most once and last, so an update that can neither collide on a
      // unique value (userName, external ids) nor touch memberships needs no savepoint: if it fails,
      // it wrote nothing. A user named by two keys of the chunk is read again for the second.
      const stale = current !== undefined && touched.has(current.id);
      const alone = current !== undefined && !stale && !setsMemberships(row) && row.fields.userName === undefined && row.fields.externalIds === undefined;
      if (current) touched.add(current.id);
      const write = writeRow(batch, row, stale ? undefined : current, id, resolved as ResolvedReferences, stale);
      const outcome = alone ? await withoutSavepoint(unit, write) : await unit.attempt(write);
      outcomes.set(
        index,
        outcome.ok
          ? { index, status: outcome.value.status, id, ...base, ...(batch.capture ? { changes: outcome.value.changes } : {}), ...(batch.dryRun ? { claims: outcome.value.claims } : {}) }
          : { index, status: 'error', id: current?.id ?? null, error: outcome.error as AppError, ...base },
      );
    }
    await flush();
    await retryAsUpdates(unit, batch, indexes, rows, existing, references, outcomes);
    return indexes.map((i) => outcomes.get(i) as BulkRowOutcome);
  };
}

/**
 * A new row whose create failed on a taken userName or external id may have lost a race: another
 * call created the user with this very key after this chunk looked (PostgreSQL commits them side
 * by side). Such rows are read again under lock, and those whose key now finds a user are written
 * as updates of it, as they would have been a moment later.
 */
async function retryAsUpdates(
  unit: UnitOfWork,
  batch: BulkBatch,
  indexes: readonly number[],
  rows: readonly BulkRow[],
  existing: ReadonlyMap<string, User>,
  references: readonly (ResolvedReferences | AppError)[],
  outcomes: Map<number, BulkRowOutcome>,
): Promise<void> {
  const lost = indexes
    .map((index, at) => ({ index, at, row: rows[at] as BulkRow }))
    .filter(({ index, row }) => {
      const outcome = outcomes.get(index);
      return outcome?.status === 'error' && !existing.has(rowKey(row.key)) && (outcome.error.code === 'user.external_id_taken' || outcome.error.code === 'user.username_taken');
    });
  if (lost.length === 0) return;
  const now = await unit.repos.users.findByExternalKeys(unit.tenantId, batch.origin, lost.map((l) => l.row.key), true);
  for (const { index, at, row } of lost) {
    const current = now.get(rowKey(row.key));
    if (!current) continue;
    batch.ids.set(rowKey(row.key), current.id);
    const refused = modeError(batch, row, current) ?? driftError(batch, row, current);
    if (refused) {
      outcomes.set(index, { index, status: 'error', id: current.id, error: refused });
      continue;
    }
    const outcome = await unit.attempt(writeRow(batch, row, current, current.id, references[at] as ResolvedReferences));
    const base = batch.capture ? { baseVersion: current.version } : {};
    outcomes.set(
      index,
      outcome.ok
        ? { index, status: outcome.value.status, id: current.id, ...base, ...(batch.capture ? { changes: outcome.value.changes } : {}), ...(batch.dryRun ? { claims: outcome.value.claims } : {}) }
        : { index, status: 'error', id: current.id, error: outcome.error as AppError, ...base },
    );
  }
}

/** A row the mode refuses: an existing user in `create`, an absent one in `update`. */
function modeError(batch: BulkBatch, row: BulkRow, current: User | undefined): AppError | undefined {
  if (current && batch.mode === 'create') {
    return new AppError('bulk.user_exists', `User ${current.id} already has the external id {origin: ${JSON.stringify(batch.origin)}, key: ${JSON.stringify(row.key)}}; mode "create" does not update.`, [{ field: '/body/key', message: 'exists' }]);
  }
  if (!current && batch.mode === 'update') {
    return new AppError('user.not_found', `No user has the external id {origin: ${JSON.stringify(batch.origin)}, key: ${JSON.stringify(row.key)}}; mode "update" does not create.`, [{ field: '/body/key', message: 'no such user' }]);
  }
  return undefined;
}

function claimsOf(user: User, isNew: boolean, changes: FieldChanges = {}): UniqueClaims {
  return { userId: user.id, isNew, userName: user.userName, externalIds: user.externalIds, changedIdentifiers: changes.userName !== undefined || changes.externalIds !== undefined };
}

/**
 * In a dry run, before a chunk runs: puts back what earlier (rolled-back) chunks wrote where this
 * chunk's rows would meet it, so they get the answers the real run gives. A user an earlier
 * chunk created that holds a userName or external id a row of this chunk sends is inserted again;
 * users whose userName or external ids an earlier chunk changed get those values again (their
 * old values are free in the real run). All of it goes with the chunk's rollback.
 */
async function replayEarlierChunks(unit: UnitOfWork, batch: BulkBatch, rows: readonly BulkRow[], existing: ReadonlyMap<string, User>): Promise<void> {
  const replay = new Map<string, UniqueClaims>(batch.renamed);
  if (batch.claims && batch.claims.size > 0) {
    for (const row of rows) {
      const own = existing.get(rowKey(row.key))?.id ?? batch.ids.get(rowKey(row.key));
      const wanted: string[] = [];
      const { userName, email, externalIds } = row.fields;
      if (typeof userName === 'string') wanted.push(userNameClaim(userName.trim()));
      else if (!existing.has(rowKey(row.key)) && typeof email === 'string' && email.trim() !== '') wanted.push(userNameClaim(email.trim()));
      if (Array.isArray(externalIds)) for (const e of externalIds as ExternalId[]) wanted.push(externalIdClaim(e));
      for (const key of wanted) {
        const holder = batch.claims.get(key);
        if (holder && holder.userId !== own) replay.set(holder.userId, holder);
      }
    }
  }
  const now = unit.now();
  for (const holder of replay.values()) {
    if (holder.isNew) {
      const base = { id: holder.userId, tenantId: unit.tenantId, createdAt: now, version: 1, status: 'active' as const, lastLoginAt: null, provisionedBy: null };
      await unit.repos.users.insertMany([buildUser(base, { userName: holder.userName, externalIds: holder.externalIds }, now)]);
    } else {
      await unit.repos.users.replayIdentifiers(unit.tenantId, holder.userId, holder.userName, holder.externalIds);
    }
  }
}

/**
 * Runs a row's write with no savepoint (see the caller for when that is safe): the outcome of
 * `UnitOfWork.attempt`, with the events appended on success.
 */
async function withoutSavepoint<T>(unit: UnitOfWork, command: (unit: UnitOfWork) => Promise<{ value: T; events: DomainEvent[] }>): Promise<RowOutcome<T>> {
  try {
    return { ok: true, value: await unit.execute(command) };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { ok: false, error };
  }
}

/** 409 sync_run.drift: the row's user changed (or appeared, or went) after the plan was made. */
function driftError(batch: BulkBatch, row: BulkRow, current: User | undefined): AppError | undefined {
  const expected = batch.expected?.get(rowKey(row.key));
  if (expected === undefined || (current?.version ?? null) === expected) return undefined;
  const now = current ? `user ${current.id} is at version ${current.version}` : 'the user no longer exists';
  const then = expected === null ? 'no user had this key' : `it was at version ${expected}`;
  return new AppError('sync_run.drift', `The user changed after the plan was made (${then}; now ${now}); the item was not applied. Plan again to see the current differences.`);
}

/**
 * One row that needs its own savepoint: an update, or a create that also sets memberships. Its
 * value is the row's status: `unchanged` when neither the user nor its lists changed.
 */
function writeRow(batch: BulkBatch, row: BulkRow, current: User | undefined, id: string, resolved: ResolvedReferences, reload = false) {
  return async (unit: UnitOfWork) => {
    const events: DomainEvent[] = [];
    let user: User;
    if (current || reload) {
      const change = (stored: User) => updateInput(batch, row, stored, resolved);
      const result = current ? await updateLoadedUser(current, change, 'patch')(unit) : await updateUser(id, undefined, change, 'patch')(unit);
      events.push(...result.events);
      user = result.value;
    } else {
      const result = await createUser(createInput(batch, row, resolved), { id })(unit);
      events.push(...result.events);
      user = result.value;
    }
    for (const [kind, desired] of Object.entries(resolved.memberships)) {
      const result = await replaceMemberships(kind as keyof ResolvedReferences['memberships'], id, desired)(unit);
      events.push(...result.events);
    }
    const status: 'added' | 'updated' | 'unchanged' = !current && !reload ? 'added' : events.length > 0 || resolved.managerPlanned ? 'updated' : 'unchanged';
    const changes: FieldChanges = {};
    for (const event of events) Object.assign(changes, event.changes);
    if (resolved.managerPlanned) changes.managerId = { from: current?.managerId ?? null, to: resolved.managerId ?? null };
    return { value: { status, changes, claims: claimsOf(user, status === 'added', changes) }, events };
  };
}

/** The row's external ids: those it sends (if any), and always its own (origin, key). */
function externalIdsOf(batch: BulkBatch, row: BulkRow, others: readonly ExternalId[]): ExternalId[] {
  const own = { origin: batch.origin, key: row.key };
  const same = (e: ExternalId) => identifierKey(e.origin) === identifierKey(own.origin) && identifierKey(e.key) === identifierKey(own.key);
  const otherOfOrigin = others.find((e) => identifierKey(e.origin) === identifierKey(own.origin) && !same(e));
  if (otherOfOrigin) {
    throw new AppError('request.validation_failed', `externalIds names another key of origin ${JSON.stringify(batch.origin)} (${JSON.stringify(otherOfOrigin.key)}) than the row's key.`, [{ field: '/body/externalIds', message: 'conflicts with key' }]);
  }
  return others.some(same) ? [...others] : [own, ...others];
}

/** Null for the fields a merge patch may not clear: a 400 naming the field, as PATCH does. */
function refuseUnclearable(fields: Record<string, unknown>): void {
  for (const field of USER_UNCLEARABLE_FIELDS) {
    if (fields[field] === null) throw new AppError('request.validation_failed', `${field} cannot be cleared.`, [{ field: `/body/${field}`, message: 'cannot be null' }]);
  }
}

function applyReferences(input: Record<string, unknown>, resolved: ResolvedReferences): void {
  // A manager planned by a dry run is not in the database: the dry run checks the row without it.
  if (resolved.managerId !== undefined) input.managerId = resolved.managerPlanned ? (input.managerId ?? null) : resolved.managerId;
  if (resolved.positionId !== undefined) input.positionId = resolved.positionId;
  if (resolved.areaId !== undefined) input.areaId = resolved.areaId;
}

/** A new user: the fields sent (null = no value), the references, and the row's external id. */
function createInput(batch: BulkBatch, row: BulkRow, resolved: ResolvedReferences): UserInput {
  refuseUnclearable(row.fields);
  const input: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row.fields)) if (value !== null) input[name] = value;
  applyReferences(input, resolved);
  if (resolved.managerPlanned) input.managerId = null;
  input.externalIds = externalIdsOf(batch, row, (input.externalIds as ExternalId[] | undefined) ?? []);
  return input as UserInput;
}

/** An existing user: the stored fields merge-patched with the row (RFC 7396), then the references. */
function updateInput(batch: BulkBatch, row: BulkRow, stored: User, resolved: ResolvedReferences): UserInput {
  refuseUnclearable(row.fields);
  const input = withinFreeJsonLimits(applyMergePatch(writableFields(stored), row.fields) as Record<string, unknown>, ['attributes']);
  applyReferences(input, resolved);
  if (resolved.managerPlanned) input.managerId = stored.managerId;
  input.externalIds = externalIdsOf(batch, row, (input.externalIds as ExternalId[] | null | undefined) ?? []);
  return input as UserInput;
}
