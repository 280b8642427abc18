import { AppError, type FieldError } from '../errors/app-error.js';
import type { Clock } from '../lib/clock.js';
import { isUuid } from '../lib/ids.js';
import type { DomainEvent } from '../domain/event.js';
import {
  DEFAULT_ENVIRONMENT_PERMISSIONS, MAX_MEMBERSHIPS_PER_REPLACE, MEMBERSHIPS, applyEntries, diffMemberships, isEmptyChange, membershipEventChanges, normalizePermissions,
  type EnvironmentPermission, type MembershipChange, type MembershipDefinition, type MembershipEntry, type MembershipKind, type MembershipTarget, type Page, type PageQuery,
  type UserSummary,
} from '../domain/membership.js';
import type { Principal } from '../domain/principal.js';
import type { Repositories, Store } from '../repositories/store.js';
import { newEvent } from './event-factory.js';

/** One wanted membership in a full replace: the target and (environments) its permissions. */
export interface DesiredMembership {
  targetId: string;
  permissions?: readonly EnvironmentPermission[] | undefined;
}

/** The result of adding one membership: whether it is new, and the membership as it now is. */
export interface Added<T> {
  created: boolean;
  item: T;
}

/** Which side of the membership the caller addressed: it decides which 404 comes first. */
type Side = 'user' | 'resource';

export const MEMBERSHIP_EVENT = 'user.memberships_changed';

/**
 * Memberships of users in roles, groups, organizations and environments, from either side.
 * Every change locks the user's row, applies the change in batch statements and appends one
 * `user.memberships_changed` event with the user's list before and after, in one transaction.
 */
export class MembershipService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** The user's roles/groups/organizations/environments. */
  async listOfUser(principal: Principal, kind: MembershipKind, userId: string): Promise<MembershipTarget[]> {
    const def = MEMBERSHIPS[kind];
    const repos = this.store.repos;
    if (!(await repos.users.exists(principal.tenantId, userId))) throw new AppError('user.not_found', `No user with id ${userId}.`);
    return repos.memberships.targetsOfUser(def, principal.tenantId, userId);
  }

  /**
   * Full replace of the user's list: afterwards the user is a member of exactly `desired`.
   * Unknown ids are refused all together (422, naming them); duplicates are a 400.
   */
  async replace(principal: Principal, kind: MembershipKind, userId: string, desired: readonly DesiredMembership[]): Promise<MembershipChange> {
    const def = MEMBERSHIPS[kind];
    const field = def.permissions ? 'environmentId' : 'id';
    if (desired.length > MAX_MEMBERSHIPS_PER_REPLACE) {
      throw new AppError('request.validation_failed', `At most ${MAX_MEMBERSHIPS_PER_REPLACE} ${def.kind} per request.`, [{ field: '/body', message: `must have at most ${MAX_MEMBERSHIPS_PER_REPLACE} items` }]);
    }
    const repeats = repeatedEntries(desired);
    if (repeats.length > 0) {
      throw new AppError(
        'request.validation_failed',
        `Each ${def.label} may appear once; repeated: ${[...new Set(repeats.map((r) => r.id))].join(', ')}.`,
        repeats.map((r) => ({ field: `/body/${r.index}/${field}`, message: `repeats ${r.id}` })),
      );
    }
    const wanted: MembershipEntry[] = desired.map((d) => entry(def, d.targetId, d.permissions ?? DEFAULT_ENVIRONMENT_PERMISSIONS));
    const tenantId = principal.tenantId;

    return this.store.transaction(async (repos) => {
      await requireUser(repos, tenantId, userId);
      const ids = wanted.map((w) => w.targetId);
      const found = await repos.memberships.existingTargetIds(def, tenantId, ids);
      const unknown: FieldError[] = [];
      ids.forEach((id, i) => {
        if (!found.has(id)) unknown.push({ field: `/body/${i}/${field}`, message: `no ${def.label} ${id} in this tenant` });
      });
      if (unknown.length > 0) {
        const names = ids.filter((id) => !found.has(id));
        throw new AppError('membership.target_not_found', `No ${def.label} with id ${names.join(', ')} in this tenant; nothing was changed.`, unknown);
      }

      const current = await repos.memberships.entriesOfUser(def, tenantId, userId);
      const change = diffMemberships(current, wanted, def.permissions);
      if (isEmptyChange(change)) return change;
      const byId = new Map(wanted.map((w) => [w.targetId, w]));
      const pick = (list: string[]) => list.map((id) => byId.get(id) as MembershipEntry);
      await repos.memberships.remove(def, tenantId, userId, change.removed);
      await repos.memberships.insert(def, tenantId, userId, pick(change.added), this.now());
      if (def.permissions) await repos.memberships.updateEnvironmentPermissions(tenantId, userId, pick(change.updated));
      await repos.events.append([this.event(principal, userId, membershipEventChanges(def, current, wanted))]);
      return change;
    });
  }

  /**
   * Adds one membership from the user's side. Idempotent: adding an existing membership changes
   * nothing (created: false), except that environments take the permissions when sent.
   */
  async addForUser(principal: Principal, kind: MembershipKind, userId: string, targetId: string, permissions?: readonly EnvironmentPermission[]): Promise<Added<MembershipTarget>> {
    const def = MEMBERSHIPS[kind];
    return this.store.transaction(async (repos) => {
      const created = await this.add(repos, principal, def, 'user', userId, targetId, permissions);
      const item = await repos.memberships.targetOfUser(def, principal.tenantId, userId, targetId);
      return { created, item: item as MembershipTarget };
    });
  }

  /** Adds one member from the resource's side (POST /v1/groups/{id}/members/{userId}). */
  async addMember(principal: Principal, kind: MembershipKind, targetId: string, userId: string, permissions?: readonly EnvironmentPermission[]): Promise<Added<UserSummary>> {
    const def = MEMBERSHIPS[kind];
    return this.store.transaction(async (repos) => {
      const created = await this.add(repos, principal, def, 'resource', userId, targetId, permissions);
      const item = await repos.memberships.member(def, principal.tenantId, targetId, userId);
      return { created, item: item as UserSummary };
    });
  }

  async removeForUser(principal: Principal, kind: MembershipKind, userId: string, targetId: string): Promise<void> {
    await this.store.transaction((repos) => this.remove(repos, principal, MEMBERSHIPS[kind], 'user', userId, targetId));
  }

  async removeMember(principal: Principal, kind: MembershipKind, targetId: string, userId: string): Promise<void> {
    await this.store.transaction((repos) => this.remove(repos, principal, MEMBERSHIPS[kind], 'resource', userId, targetId));
  }

  /** One page of a role's/group's/… members, in user id order. */
  async members(principal: Principal, kind: MembershipKind, targetId: string, page: PageQuery): Promise<Page<UserSummary>> {
    const def = MEMBERSHIPS[kind];
    if (page.cursor !== undefined && !isUuid(page.cursor)) throw new AppError('request.invalid_cursor', 'The cursor must be a value returned as nextCursor.');
    const repos = this.store.repos;
    await requireTarget(repos, def, principal.tenantId, targetId);
    return repos.memberships.members(def, principal.tenantId, targetId, page);
  }

  private async add(repos: Repositories, principal: Principal, def: MembershipDefinition, side: Side, userId: string, targetId: string, permissions: readonly EnvironmentPermission[] | undefined): Promise<boolean> {
    const tenantId = principal.tenantId;
    await requireBoth(repos, def, side, tenantId, userId, targetId);
    const current = await repos.memberships.entriesOfUser(def, tenantId, userId);
    const existing = current.find((e) => e.targetId === targetId);
    if (existing) {
      // Already a member: only an environment's permissions can change.
      if (!def.permissions || permissions === undefined) return false;
      const next = entry(def, targetId, permissions);
      if (diffMemberships([existing], [next], true).updated.length === 0) return false;
      await repos.memberships.updateEnvironmentPermissions(tenantId, userId, [next]);
      await repos.events.append([this.event(principal, userId, membershipEventChanges(def, current, applyEntries(current, [next], [])))]);
      return false;
    }
    const next = entry(def, targetId, permissions ?? DEFAULT_ENVIRONMENT_PERMISSIONS);
    // The primary key turns a concurrent duplicate add into a no-op (0 rows): no second event.
    if ((await repos.memberships.insert(def, tenantId, userId, [next], this.now())) === 0) return false;
    await repos.events.append([this.event(principal, userId, membershipEventChanges(def, current, applyEntries(current, [next], [])))]);
    return true;
  }

  private async remove(repos: Repositories, principal: Principal, def: MembershipDefinition, side: Side, userId: string, targetId: string): Promise<void> {
    const tenantId = principal.tenantId;
    await requireBoth(repos, def, side, tenantId, userId, targetId);
    const current = await repos.memberships.entriesOfUser(def, tenantId, userId);
    if (!current.some((e) => e.targetId === targetId) || (await repos.memberships.remove(def, tenantId, userId, [targetId])) === 0) {
      throw new AppError('membership.not_found', `User ${userId} is not a member of ${def.label} ${targetId}.`);
    }
    await repos.events.append([this.event(principal, userId, membershipEventChanges(def, current, applyEntries(current, [], [targetId])))]);
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  private event(principal: Principal, userId: string, changes: DomainEvent['changes']): DomainEvent {
    return newEvent(principal, this.clock, MEMBERSHIP_EVENT, 'user', userId, changes);
  }
}

function entry(def: MembershipDefinition, targetId: string, permissions: readonly EnvironmentPermission[]): MembershipEntry {
  return def.permissions ? { targetId, permissions: normalizePermissions(permissions) } : { targetId };
}

/** Every entry whose id already appeared earlier in the list. */
function repeatedEntries(desired: readonly DesiredMembership[]): { index: number; id: string }[] {
  const seen = new Set<string>();
  const repeats: { index: number; id: string }[] = [];
  desired.forEach((d, index) => {
    if (seen.has(d.targetId)) repeats.push({ index, id: d.targetId });
    seen.add(d.targetId);
  });
  return repeats;
}

/** The user must exist in the tenant (another tenant's user is simply not found); locks it for the change. */
async function requireUser(repos: Repositories, tenantId: string, userId: string): Promise<void> {
  if (!(await repos.memberships.lockUser(tenantId, userId))) throw new AppError('user.not_found', `No user with id ${userId}.`);
}

async function requireTarget(repos: Repositories, def: MembershipDefinition, tenantId: string, targetId: string): Promise<void> {
  if (!(await repos.memberships.existingTargetIds(def, tenantId, [targetId])).has(targetId)) {
    throw new AppError(def.notFound, `No ${def.label} with id ${targetId}.`);
  }
}

/** Both ends must exist; the one named first in the URL is checked (and reported) first. */
async function requireBoth(repos: Repositories, def: MembershipDefinition, side: Side, tenantId: string, userId: string, targetId: string): Promise<void> {
  if (side === 'user') {
    await requireUser(repos, tenantId, userId);
    await requireTarget(repos, def, tenantId, targetId);
  } else {
    await requireTarget(repos, def, tenantId, targetId);
    await requireUser(repos, tenantId, userId);
  }
}
