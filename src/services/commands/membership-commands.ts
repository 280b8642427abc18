import { AppError, type FieldError } from '../../errors/app-error.js';
import type { DomainEvent, FieldChanges } from '../../domain/event.js';
import {
  DEFAULT_ENVIRONMENT_PERMISSIONS, MAX_MEMBERSHIPS_PER_REPLACE, MEMBERSHIPS, applyEntries, diffMemberships, isEmptyChange, membershipEventChanges, normalizePermissions,
  type EnvironmentPermission, type MembershipChange, type MembershipDefinition, type MembershipEntry, type MembershipKind,
} from '../../domain/membership.js';
import { newEvent } from '../event-factory.js';
import type { Command, UnitOfWork } from '../unit-of-work.js';

/** One wanted membership in a full replace: the target and (environments) its permissions. */
export interface DesiredMembership {
  targetId: string;
  permissions?: readonly EnvironmentPermission[] | undefined;
}

/** Which side of the membership the caller addressed: it decides which 404 comes first. */
export type MembershipSide = 'user' | 'resource';

/**
 * Full replace of a user's list of one kind: afterwards the user is a member of exactly
 * `desired`. Unknown ids are refused all together (422 naming them; nothing changes);
 * duplicates are a 400. One `user.memberships_changed` event with the lists before and after;
 * the user's version and the version of every target added, removed or re-permissioned move.
 * The plan is pure (diffMemberships); the apply is one statement per kind of change.
 */
export function replaceMemberships(kind: MembershipKind, userId: string, desired: readonly DesiredMembership[]): Command<MembershipChange> {
  const def = MEMBERSHIPS[kind];
  const field = def.permissions ? 'environmentId' : 'id';
  checkReplaceBody(def, desired, field);
  const wanted = desired.map((d) => entry(def, d.targetId, d.permissions ?? DEFAULT_ENVIRONMENT_PERMISSIONS));
  return async (unit) => {
    await requireUser(unit, userId);
    const ids = wanted.map((w) => w.targetId);
    const found = await unit.repos.memberships.existingTargetIds(def, unit.tenantId, ids, true);
    const unknown: FieldError[] = [];
    ids.forEach((id, i) => {
      if (!found.has(id)) unknown.push({ field: `/body/${i}/${field}`, message: `no ${def.label} ${id} in this tenant` });
    });
    if (unknown.length > 0) {
      const names = ids.filter((id) => !found.has(id));
      throw new AppError('membership.target_not_found', `No ${def.label} with id ${names.join(', ')} in this tenant; nothing was changed.`, unknown);
    }

    const current = await unit.repos.memberships.entriesOfUser(def, unit.tenantId, userId);
    const change = diffMemberships(current, wanted, def.permissions);
    if (isEmptyChange(change)) return { value: change, events: [] };
    const byId = new Map(wanted.map((w) => [w.targetId, w]));
    const pick = (list: string[]) => list.map((id) => byId.get(id) as MembershipEntry);
    const now = unit.now();
    await unit.repos.memberships.remove(def, unit.tenantId, userId, change.removed);
    await unit.repos.memberships.insert(def, unit.tenantId, userId, pick(change.added), now);
    if (def.permissions) await unit.repos.memberships.updateEnvironmentPermissions(unit.tenantId, userId, pick(change.updated));
    await bumpVersions(unit, def, userId, [...change.added, ...change.removed, ...change.updated]);
    return { value: change, events: [membershipEvent(unit, userId, membershipEventChanges(def, current, wanted))] };
  };
}

/**
 * Adds one membership (from either side). Idempotent: adding an existing membership changes
 * nothing (`created: false`), except that an environment takes the permissions when sent. The
 * primary key turns a concurrent duplicate add into a no-op, never a second row or event.
 */
export function addMembership(
  kind: MembershipKind,
  side: MembershipSide,
  userId: string,
  targetId: string,
  permissions: readonly EnvironmentPermission[] | undefined,
): Command<{ created: boolean }> {
  const def = MEMBERSHIPS[kind];
  return async (unit) => {
    await requireBoth(unit, def, side, userId, targetId);
    const current = await unit.repos.memberships.entriesOfUser(def, unit.tenantId, userId);
    const existing = current.find((e) => e.targetId === targetId);
    const none = { value: { created: false }, events: [] };
    if (existing) {
      // Already a member: only an environment's permissions can change.
      if (!def.permissions || permissions === undefined) return none;
      const next = entry(def, targetId, permissions);
      if (diffMemberships([existing], [next], true).updated.length === 0) return none;
      await unit.repos.memberships.updateEnvironmentPermissions(unit.tenantId, userId, [next]);
      await bumpVersions(unit, def, userId, [targetId]);
      return { value: { created: false }, events: [membershipEvent(unit, userId, membershipEventChanges(def, current, applyEntries(current, [next], [])))] };
    }
    const next = entry(def, targetId, permissions ?? DEFAULT_ENVIRONMENT_PERMISSIONS);
    if ((await unit.repos.memberships.insert(def, unit.tenantId, userId, [next], unit.now())) === 0) return none;
    await bumpVersions(unit, def, userId, [targetId]);
    return { value: { created: true }, events: [membershipEvent(unit, userId, membershipEventChanges(def, current, applyEntries(current, [next], [])))] };
  };
}

/** Removes one membership (from either side); 404 membership.not_found when there is none. */
export function removeMembership(kind: MembershipKind, side: MembershipSide, userId: string, targetId: string): Command<void> {
  const def = MEMBERSHIPS[kind];
  return async (unit) => {
    await requireBoth(unit, def, side, userId, targetId);
    const current = await unit.repos.memberships.entriesOfUser(def, unit.tenantId, userId);
    if (!current.some((e) => e.targetId === targetId) || (await unit.repos.memberships.remove(def, unit.tenantId, userId, [targetId])) === 0) {
      throw new AppError('membership.not_found', `User ${userId} is not a member of ${def.label} ${targetId}.`);
    }
    await bumpVersions(unit, def, userId, [targetId]);
    return { value: undefined, events: [membershipEvent(unit, userId, membershipEventChanges(def, current, applyEntries(current, [], [targetId])))] };
  };
}

/**
 * A membership is part of both ends: the user's version and each changed target's version move,
 * so an ETag (and a later SCIM If-Match) sees the change.
 */
async function bumpVersions(unit: UnitOfWork, def: MembershipDefinition, userId: string, targetIds: readonly string[]): Promise<void> {
  const now = unit.now();
  await unit.repos.users.bumpVersions(unit.tenantId, [userId], now);
  await unit.repos.directory.bumpVersions(def.target, unit.tenantId, targetIds, now);
}

function membershipEvent(unit: UnitOfWork, userId: string, changes: FieldChanges): DomainEvent {
  return newEvent(unit.principal, unit.clock, 'user.memberships_changed', 'user', userId, changes);
}

function entry(def: MembershipDefinition, targetId: string, permissions: readonly EnvironmentPermission[]): MembershipEntry {
  return def.permissions ? { targetId, permissions: normalizePermissions(permissions) } : { targetId };
}

/** At most MAX_MEMBERSHIPS_PER_REPLACE entries, each target once (400 naming the repeats). */
function checkReplaceBody(def: MembershipDefinition, desired: readonly DesiredMembership[], field: string): void {
  if (desired.length > MAX_MEMBERSHIPS_PER_REPLACE) {
    throw new AppError('request.validation_failed', `At most ${MAX_MEMBERSHIPS_PER_REPLACE} ${def.kind} per request.`, [
      { field: '/body', message: `must have at most ${MAX_MEMBERSHIPS_PER_REPLACE} items` },
    ]);
  }
  const seen = new Set<string>();
  const repeats: { index: number; id: string }[] = [];
  desired.forEach((d, index) => {
    if (seen.has(d.targetId)) repeats.push({ index, id: d.targetId });
    seen.add(d.targetId);
  });
  if (repeats.length > 0) {
    throw new AppError(
      'request.validation_failed',
      `Each ${def.label} may appear once; repeated: ${[...new Set(repeats.map((r) => r.id))].join(', ')}.`,
      repeats.map((r) => ({ field: `/body/${r.index}/${field}`, message: `repeats ${r.id}` })),
    );
  }
}

/**
 * The user must exist in the tenant (another tenant's user is simply not found). Locks the
 * user's row until the unit ends on PostgreSQL, so two changes to one user's memberships run one
 * after the other and each event's before/after lists are exact.
 */
export async function requireUser(unit: UnitOfWork, userId: string): Promise<void> {
  if (!(await unit.repos.memberships.lockUser(unit.tenantId, userId))) throw new AppError('user.not_found', `No user with id ${userId}.`);
}

/** The target must exist in the tenant; it is held against deletion until the unit ends (see existingTargetIds). */
export async function requireTarget(unit: UnitOfWork, def: MembershipDefinition, targetId: string): Promise<void> {
  if (!(await unit.repos.memberships.existingTargetIds(def, unit.tenantId, [targetId], true)).has(targetId)) {
    throw new AppError(def.notFound, `No ${def.label} with id ${targetId}.`);
  }
}

/** Both ends must exist; the one named first in the URL is checked (and reported) first. */
async function requireBoth(unit: UnitOfWork, def: MembershipDefinition, side: MembershipSide, userId: string, targetId: string): Promise<void> {
  if (side === 'user') {
    await requireUser(unit, userId);
    await requireTarget(unit, def, targetId);
  } else {
    await requireTarget(unit, def, targetId);
    await requireUser(unit, userId);
  }
}
