import { AppError, type FieldError } from '../../errors/app-error.js';
import type { DomainEvent, FieldChanges } from '../../domain/event.js';
import {
  DEFAULT_ENVIRONMENT_PERMISSIONS, MAX_MEMBERSHIPS_PER_REPLACE, MEMBERSHIPS, applyEntries, diffMemberships, isEmptyChange, membershipEventChanges, normalizePermissions,
  type EnvironmentPermission, type MembershipChange, type MembershipDefinition, type MembershipEntry, type MembershipKind,
} from '../../domain/membership.js';
import { newEvent } from '../event-factory.js';
import type { Command, UnitOfWork } from '../unit-of-work.js';
import { checkExpectedVersion, type ExpectedVersion } from './user-checks.js';

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
export function replaceMemberships(kind: MembershipKind, userId: string, desired: readonly DesiredMembership[], expected?: ExpectedVersion): Command<MembershipChange> {
  const def = MEMBERSHIPS[kind];
  const field = def.permissions ? 'environmentId' : 'id';
  checkReplaceBody(def, desired, field);
  const wanted = desired.map((d) => entry(def, d.targetId, d.permissions ?? DEFAULT_ENVIRONMENT_PERMISSIONS));
  return async (unit) => {
    await requireUser(unit, userId, expected);
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
  expected?: ExpectedVersion,
): Command<{ created: boolean }> {
  const def = MEMBERSHIPS[kind];
  return async (unit) => {
    await requireBoth(unit, def, side, userId, targetId, expected);
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
export function removeMembership(kind: MembershipKind, side: MembershipSide, userId: string, targetId: string, expected?: ExpectedVersion): Command<void> {
  const def = MEMBERSHIPS[kind];
  return async (unit) => {
    await requireBoth(unit, def, side, userId, targetId, expected);
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
export async function requireUser(unit: UnitOfWork, userId: string, expected?: ExpectedVersion): Promise<void> {
  const user = await unit.repos.memberships.lockUser(unit.tenantId, userId);
  if (!user) throw new AppError('user.not_found', `No user with id ${userId}.`);
  checkVersion('user', user.version, expected);
}

/** If-Match on a membership names the version of the side the URL addresses; 412 when it moved. */
function checkVersion(what: string, version: number, expected: ExpectedVersion): void {
  checkExpectedVersion(what, version, expected);
}

/**
 * The target must exist in the tenant. With `lock`, it is held until the unit ends (a concurrent
 * delete of it then waits, or this unit finds it gone: a 404, never a foreign-key failure).
 */
export async function requireTarget(unit: UnitOfWork, def: MembershipDefinition, targetId: string, lock = false, expected?: ExpectedVersion): Promise<void> {
  const target = lock ? await unit.repos.memberships.lockTarget(def, unit.tenantId, targetId) : undefined;
  if (lock ? !target : !(await unit.repos.memberships.existingTargetIds(def, unit.tenantId, [targetId])).has(targetId)) {
    throw new AppError(def.notFound, `No ${def.label} with id ${targetId}.`);
  }
  if (target) checkVersion(def.label, target.version, expected);
}

/**
 * Both ends must exist; the one named first in the URL is reported first, and If-Match applies
 * to it. Whatever the side, the user is locked before the target (the lock order of
 * deleteRecord and deleteUser).
 */
async function requireBoth(unit: UnitOfWork, def: MembershipDefinition, side: MembershipSide, userId: string, targetId: string, expected: ExpectedVersion): Promise<void> {
  if (side === 'resource') await requireTarget(unit, def, targetId);
  await requireUser(unit, userId, side === 'user' ? expected : undefined);
  await requireTarget(unit, def, targetId, true, side === 'resource' ? expected : undefined);
}

/** A change to one target's member list: add and remove some users, or replace the whole list. */
export type MemberChange = { add: readonly string[]; remove: readonly string[] } | { replace: readonly string[] };

/** Most members one change may name (a SCIM PATCH replacing a large group's list). */
export const MAX_MEMBERS_PER_CHANGE = 100_000;

/**
 * Changes the members of one role, group or organization from the target's side (SCIM Group
 * PATCH and PUT): the target is locked once and its version moves once, each user whose
 * membership changed gets one `user.memberships_changed` with its list before and after, and
 * its version moves. Adding a member twice or removing a non-member changes nothing. A replace
 * reads the current member ids once. Users that do not exist (or that `visible` hides) are a
 * 422 group.member_not_found naming them, and nothing changes; members `visible` hides are left
 * as they are (a replace keeps them). Lock order: users by id, then the target, as everywhere.
 * Returns the user ids added and removed.
 */
export function changeMembers(
  kind: Exclude<MembershipKind, 'environments'>,
  targetId: string,
  change: MemberChange,
  expected?: ExpectedVersion,
  visible?: (provisionedBy: string | null) => boolean,
): Command<{ added: string[]; removed: string[] }> {
  const def = MEMBERSHIPS[kind];
  return async (unit) => {
    const { tenantId } = unit;
    const named = 'replace' in change ? [...new Set(change.replace)] : [...new Set([...change.add, ...change.remove])];
    if (named.length > MAX_MEMBERS_PER_CHANGE) throw new AppError('request.validation_failed', `At most ${MAX_MEMBERS_PER_CHANGE} members per change.`);
    // Lock order as everywhere: the users (by id), then the target, here exclusively, so that
    // member changes of one target from its side run one at a time and If-Match holds.
    const guess = 'replace' in change ? await unit.repos.memberships.memberIds(def, tenantId, targetId) : [];
    const involved = new Set([...named, ...guess]);
    await unit.repos.memberships.lockUsers(tenantId, [...involved]);
    const target = await unit.repos.memberships.lockTarget(def, tenantId, targetId, true);
    if (!target) throw new AppError(def.notFound, `No ${def.label} with id ${targetId}.`);
    checkExpectedVersion(def.label, target.version, expected);
    // The list read before the lock may have changed meanwhile: read it again under the lock, and
    // lock any member that joined (out of order, but only then; a deadlock re-runs the unit).
    const current = 'replace' in change ? await unit.repos.memberships.memberIds(def, tenantId, targetId) : undefined;
    const joined = (current ?? []).filter((id) => !involved.has(id));
    if (joined.length > 0) await unit.repos.memberships.lockUsers(tenantId, joined);

    const wanted = 'replace' in change ? named : [...new Set(change.add)];
    const owners = await unit.repos.users.provisionedByOf(tenantId, wanted);
    const missing = wanted.filter((id) => !owners.has(id) || (visible !== undefined && !visible(owners.get(id) ?? null)));
    if (missing.length > 0) {
      throw new AppError('group.member_not_found', `No user with id ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ` and ${missing.length - 20} more` : ''} in this tenant; nothing was changed.`);
    }

    let members = current ? new Set(current) : new Set(await unit.repos.memberships.memberIdsAmong(def, tenantId, targetId, [...involved]));
    if (visible !== undefined) {
      // Members the caller may not see are neither shown to it nor removed by it (not by a replace either).
      const memberOwners = await unit.repos.users.provisionedByOf(tenantId, [...members]);
      members = new Set([...members].filter((id) => visible(memberOwners.get(id) ?? null)));
    }
    const toAdd = wanted.filter((id) => !members.has(id));
    const adding = new Set(toAdd);
    const keep = new Set(named);
    const toRemove = 'replace' in change ? [...members].filter((id) => !keep.has(id)) : [...new Set(change.remove)].filter((id) => members.has(id) && !adding.has(id));
    if (toAdd.length === 0 && toRemove.length === 0) return { value: { added: [], removed: [] }, events: [] };

    const changed = [...toAdd, ...toRemove];
    const before = await unit.repos.memberships.entriesOfUsers(def, tenantId, changed);
    const now = unit.now();
    await unit.repos.memberships.removeMembers(def, tenantId, targetId, toRemove);
    await unit.repos.memberships.insertMembers(def, tenantId, targetId, toAdd, now);
    const events: DomainEvent[] = [];
    const removing = new Set(toRemove);
    for (const userId of changed) {
      const entries = before.get(userId) ?? [];
      const after = removing.has(userId) ? applyEntries(entries, [], [targetId]) : applyEntries(entries, [{ targetId }], []);
      events.push(membershipEvent(unit, userId, membershipEventChanges(def, entries, after)));
    }
    await unit.repos.users.bumpVersions(tenantId, changed, now);
    await unit.repos.directory.bumpVersions(def.target, tenantId, [targetId], now);
    return { value: { added: toAdd, removed: toRemove }, events };
  };
}
