import { AppError } from '../errors/app-error.js';
import { isUuid } from '../lib/ids.js';
import {
  MEMBERSHIPS, type EnvironmentPermission, type MembershipChange, type MembershipKind, type MembershipTarget, type Page, type PageQuery, type UserSummary,
} from '../domain/membership.js';
import type { Principal } from '../domain/principal.js';
import type { Store } from '../repositories/store.js';
import { addMembership, removeMembership, replaceMemberships, type DesiredMembership } from './commands/membership-commands.js';
import type { ExpectedVersion } from './commands/user-checks.js';
import type { UnitRunner } from './unit-of-work.js';

export type { DesiredMembership } from './commands/membership-commands.js';

/** The result of adding one membership: whether it is new, and the membership as it now is. */
export interface Added<T> {
  created: boolean;
  item: T;
}

/**
 * Memberships of users in roles, groups, organizations and environments, from either side. The
 * rules are the membership commands (src/services/commands/membership-commands.ts); each method
 * here runs one in its own unit of work and reads back what the caller is shown. `expected` is
 * If-Match: the version of the side the URL addresses (the user on /v1/users/{id}/…, the role,
 * group, organization or environment on /v1/<kind>/{id}/members/…).
 */
export class MembershipService {
  constructor(
    private readonly store: Store,
    private readonly units: UnitRunner,
  ) {}

  /** The user's roles/groups/organizations/environments. */
  async listOfUser(principal: Principal, kind: MembershipKind, userId: string): Promise<MembershipTarget[]> {
    const def = MEMBERSHIPS[kind];
    const repos = this.store.repos;
    if (!(await repos.users.exists(principal.tenantId, userId))) throw new AppError('user.not_found', `No user with id ${userId}.`);
    return repos.memberships.targetsOfUser(def, principal.tenantId, userId);
  }

  /** Full replace of the user's list (see replaceMemberships). */
  async replace(principal: Principal, kind: MembershipKind, userId: string, desired: readonly DesiredMembership[], expected?: ExpectedVersion): Promise<MembershipChange> {
    return this.units.run(principal, replaceMemberships(kind, userId, desired, expected));
  }

  /** Adds one membership from the user's side (idempotent; see addMembership). */
  async addForUser(
    principal: Principal,
    kind: MembershipKind,
    userId: string,
    targetId: string,
    permissions?: readonly EnvironmentPermission[],
    expected?: ExpectedVersion,
  ): Promise<Added<MembershipTarget>> {
    return this.units.within(principal, async (unit) => {
      const { created } = await unit.execute(addMembership(kind, 'user', userId, targetId, permissions, expected));
      const item = await unit.repos.memberships.targetOfUser(MEMBERSHIPS[kind], principal.tenantId, userId, targetId);
      return { created, item: item as MembershipTarget };
    });
  }

  /** Adds one member from the resource's side (POST /v1/groups/{id}/members/{userId}). */
  async addMember(
    principal: Principal,
    kind: MembershipKind,
    targetId: string,
    userId: string,
    permissions?: readonly EnvironmentPermission[],
    expected?: ExpectedVersion,
  ): Promise<Added<UserSummary>> {
    return this.units.within(principal, async (unit) => {
      const { created } = await unit.execute(addMembership(kind, 'resource', userId, targetId, permissions, expected));
      const item = await unit.repos.memberships.member(MEMBERSHIPS[kind], principal.tenantId, targetId, userId);
      return { created, item: item as UserSummary };
    });
  }

  async removeForUser(principal: Principal, kind: MembershipKind, userId: string, targetId: string, expected?: ExpectedVersion): Promise<void> {
    await this.units.run(principal, removeMembership(kind, 'user', userId, targetId, expected));
  }

  async removeMember(principal: Principal, kind: MembershipKind, targetId: string, userId: string, expected?: ExpectedVersion): Promise<void> {
    await this.units.run(principal, removeMembership(kind, 'resource', userId, targetId, expected));
  }

  /** One page of a role's/group's/… members, in user id order. */
  async members(principal: Principal, kind: MembershipKind, targetId: string, page: PageQuery): Promise<Page<UserSummary>> {
    const def = MEMBERSHIPS[kind];
    if (page.cursor !== undefined && !isUuid(page.cursor)) throw new AppError('request.invalid_cursor', 'The cursor must be a value returned as nextCursor.');
    const repos = this.store.repos;
    if (!(await repos.memberships.existingTargetIds(def, principal.tenantId, [targetId])).has(targetId)) throw new AppError(def.notFound, `No ${def.label} with id ${targetId}.`);
    return repos.memberships.members(def, principal.tenantId, targetId, page);
  }
}
