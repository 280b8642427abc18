import { AppError } from '../errors/app-error.js';
import { DIRECTORY, type DirectoryRecord } from '../domain/directory.js';
import { MEMBERSHIPS } from '../domain/membership.js';
import type { Principal } from '../domain/principal.js';
import type { User, UserInput } from '../domain/user.js';
import type { SecretHasher } from '../lib/secrets.js';
import type { ListQuery } from '../domain/list-query.js';
import type { PageOf } from '../repositories/keyset-page.js';
import type { Store } from '../repositories/store.js';
import { deleteRecord } from './commands/delete-record-command.js';
import { deleteUser } from './commands/delete-user-command.js';
import { createRecord, updateRecord } from './commands/directory-commands.js';
import { changeMembers, type MemberChange } from './commands/membership-commands.js';
import { createUser, createUsers, setUserPassword, transitionUser, updateUser } from './commands/user-commands.js';
import { checkExpectedVersion, type ExpectedVersion } from './commands/user-checks.js';
import type { Command, RowOutcome, UnitOfWork, UnitRunner } from './unit-of-work.js';

/**
 * Who a SCIM write speaks for: the credential's origin (recorded as `provisionedBy` on what it
 * creates) and, when the credential is limited to what it provisioned, that origin as `owner`:
 * everything else is invisible to it (404).
 */
export interface ScimActor {
  origin: string;
  owner?: string | undefined;
}

/** What DELETE /Users/{id} does for this credential. */
export type ScimDeleteMode = 'delete' | 'suspend';

/** Plans a member change inside the unit, reading the member list (id, display name) only if it must. */
export type MemberPlanner = (loadMembers: () => Promise<{ id: string; displayName: string }[]>) => Promise<MemberChange>;

/** Computes a SCIM PUT's or PATCH's whole input from the stored user and what of it the actor may not see. */
export type UserChange = (current: User, view: { managerHidden: boolean }) => UserInput;

/** A user write's password, already hashed (hash with `ScimService.hashPassword` before the unit). */
export interface HashedPassword {
  hash: string;
}

const GROUP = DIRECTORY.group;
const GROUP_MEMBERS = MEMBERSHIPS.groups;

/**
 * The writes and reads the SCIM adapter needs that compose several commands in one unit (a user
 * and its password, a group and its members) or limit a credential to what it provisioned. The
 * commands are the same ones the native API runs, so a SCIM change has the same events, versions
 * and history. The commands are public too (`userCommands`…), so /Bulk runs them in one batch.
 */
export class ScimService {
  constructor(
    private readonly store: Store,
    private readonly units: UnitRunner,
    private readonly hasher: SecretHasher,
  ) {}

  /** argon2id (OWASP parameters) on the libuv pool: never on the event loop, never in a transaction. */
  async hashPassword(password: string | undefined): Promise<HashedPassword | undefined> {
    return password === undefined ? undefined : { hash: await this.hasher.hash(password) };
  }

  async createUser(principal: Principal, actor: ScimActor, input: UserInput, password?: HashedPassword): Promise<User> {
    return this.units.run(principal, this.createUserCommand(actor, input, password));
  }

  createUserCommand(actor: ScimActor, input: UserInput, password?: HashedPassword): Command<User> {
    return async (unit) => {
      if (input.managerId) await requireVisibleManager(unit, actor, input.managerId);
      const created = await createUser(input, { provisionedBy: actor.origin })(unit);
      if (password) created.events.push(...(await setUserPassword(created.value.id, password.hash)(unit)).events);
      return created;
    };
  }

  /**
   * Many creates at once (the POST /Users runs of a /Bulk request): `createUsers` batches the
   * writes; a row that fails (a value, a taken userName, a manager the actor may not see) is an
   * error of its own. Passwords are set after the rows. Outcomes in input order.
   */
  createUsersCommand(actor: ScimActor, rows: readonly { input: UserInput; password?: HashedPassword | undefined }[]): Command<RowOutcome<User>[]> {
    return async (unit) => {
      const outcomes: RowOutcome<User>[] = new Array(rows.length);
      const managers = actor.owner === undefined ? new Map<string, string | null>() : await unit.repos.users.provisionedByOf(unit.tenantId, rows.flatMap((r) => (r.input.managerId ? [r.input.managerId] : [])));
      const pending: number[] = [];
      rows.forEach((row, at) => {
        const manager = row.input.managerId;
        if (manager && actor.owner !== undefined && managers.get(manager) !== actor.owner) {
          outcomes[at] = { ok: false, error: new AppError('user.manager_not_found', `No user with id ${manager} in this tenant.`, [{ field: '/body/managerId', message: 'no such user' }]) };
        } else pending.push(at);
      });
      const created = await createUsers(pending.map((at) => ({ input: (rows[at] as { input: UserInput }).input, options: { provisionedBy: actor.origin } })))(unit);
      const events = [...created.events];
      for (const [i, outcome] of created.value.entries()) {
        const at = pending[i] as number;
        outcomes[at] = outcome;
        const password = rows[at]?.password;
        if (outcome.ok && password) events.push(...(await setUserPassword(outcome.value.id, password.hash)(unit)).events);
      }
      return { value: outcomes, events };
    };
  }

  /** A user the actor may see; 404 user.not_found otherwise. */
  async getUser(principal: Principal, actor: ScimActor, id: string): Promise<User> {
    const user = await this.store.repos.users.findById(principal.tenantId, id);
    if (!user || !ownsUser(actor, user)) throw new AppError('user.not_found', `No user with id ${id}.`);
    return user;
  }

  /**
   * PUT and PATCH: `change` computes the whole input from the stored user, inside the unit. It is
   * told what of the user the actor may not see (a manager another origin provisioned), which a
   * write that leaves it out must keep.
   */
  async updateUser(principal: Principal, actor: ScimActor, id: string, expected: ExpectedVersion, change: UserChange, password?: HashedPassword): Promise<User> {
    return this.units.run(principal, this.updateUserCommand(actor, id, expected, change, password));
  }

  updateUserCommand(actor: ScimActor, id: string, expected: ExpectedVersion, change: UserChange, password?: HashedPassword): Command<User> {
    return async (unit) => {
      // Whether the manager is one the actor sees, read before the user is locked: a manager that
      // changed meanwhile is treated as hidden (kept), never as shown.
      let hiddenManager: string | null = null;
      let seenManager: string | null = null;
      if (actor.owner !== undefined) {
        seenManager = (await unit.repos.users.findById(unit.tenantId, id))?.managerId ?? null;
        if (seenManager !== null && (await unit.repos.users.provisionedByOf(unit.tenantId, [seenManager])).get(seenManager) !== actor.owner) hiddenManager = seenManager;
      }
      const viewOf = (current: User) => ({ managerHidden: current.managerId !== null && (current.managerId === hiddenManager || (actor.owner !== undefined && current.managerId !== seenManager)) });
      const updated = await updateUser(id, expected, (current) => change(current, viewOf(current)), 'replace', (user) => ownsUser(actor, user))(unit);
      // A new manager must be a user the credential sees (the write is undone with the error).
      const managerChanged = updated.events.some((e) => e.type === 'user.updated' && e.changes.managerId !== undefined);
      if (managerChanged && updated.value.managerId) await requireVisibleManager(unit, actor, updated.value.managerId);
      if (password) updated.events.push(...(await setUserPassword(id, password.hash)(unit)).events);
      return updated;
    };
  }

  async deleteUser(principal: Principal, actor: ScimActor, id: string, expected: ExpectedVersion, mode: ScimDeleteMode): Promise<void> {
    await this.units.run(principal, this.deleteUserCommand(actor, id, expected, mode));
  }

  /** Deletes, or suspends when the credential says so (the user stays, `active: false`). */
  deleteUserCommand(actor: ScimActor, id: string, expected: ExpectedVersion, mode: ScimDeleteMode): Command<void> {
    return async (unit) => {
      await requireVisibleUser(unit, actor, id);
      if (mode === 'suspend') {
        const { events } = await transitionUser(id, 'suspended', expected)(unit);
        return { value: undefined, events };
      }
      return deleteUser(id, expected)(unit);
    };
  }

  /**
   * One page of users for a SCIM list. The `scim` scope reads users and their groups (a SCIM
   * filter on `groups` needs no directory scope); the query is the mapped SCIM request.
   */
  async listUsers(principal: Principal, query: ListQuery): Promise<PageOf<User>> {
    return this.store.repos.users.list(principal.tenantId, query);
  }

  async listGroups(principal: Principal, query: ListQuery): Promise<PageOf<DirectoryRecord>> {
    return this.store.repos.directory.list(GROUP, principal.tenantId, query);
  }

  /** The groups of each user the actor sees, by user id (one query for a page). */
  async groupsOf(principal: Principal, actor: ScimActor, userIds: readonly string[]): Promise<Map<string, { id: string; name: string }[]>> {
    return this.store.repos.memberships.targetNamesOfUsers(GROUP_MEMBERS, principal.tenantId, userIds, actor.owner);
  }

  /** Display names of users by id (managers of a page) that the actor sees, one query. */
  async displayNames(principal: Principal, actor: ScimActor, ids: readonly string[]): Promise<Map<string, string>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const users = await this.store.repos.userExpand.usersByIds(principal.tenantId, unique);
    // A manager the credential may not see keeps its id on the user, but not its name.
    return new Map([...users.entries()].filter(([, u]) => ownsUser(actor, u)).map(([id, u]) => [id, u.displayName]));
  }

  // Groups

  async createGroup(principal: Principal, actor: ScimActor, input: Record<string, unknown>, members: readonly string[]): Promise<DirectoryRecord> {
    return this.units.run(principal, this.createGroupCommand(actor, input, members));
  }

  createGroupCommand(actor: ScimActor, input: Record<string, unknown>, members: readonly string[]): Command<DirectoryRecord> {
    return async (unit) => {
      const created = await createRecord(GROUP, input, { provisionedBy: actor.origin })(unit);
      const group = created.value.after;
      if (members.length === 0) return { value: group, events: created.events };
      const { events } = await changeMembers('groups', group.id, { add: members, remove: [] }, undefined, memberVisibility(actor))(unit);
      return { value: { ...group, version: group.version + 1 }, events: [...created.events, ...events] };
    };
  }

  async getGroup(principal: Principal, actor: ScimActor, id: string): Promise<DirectoryRecord> {
    const group = await this.store.repos.directory.findById(GROUP, principal.tenantId, id);
    if (!group || !ownsGroup(actor, group)) throw new AppError('group.not_found', `No group with id ${id}.`);
    return group;
  }

  /** The members the actor sees of each group, with their display names, by group id (one query for a page). */
  async groupMembers(principal: Principal, actor: ScimActor, groupIds: readonly string[]): Promise<Map<string, { id: string; displayName: string }[]>> {
    return this.store.repos.memberships.memberNames(GROUP_MEMBERS, principal.tenantId, groupIds, actor.owner);
  }

  /**
   * PUT and PATCH of a group: the record's change (displayName, externalId) and the member
   * change in one unit. A change that changes nothing writes nothing. Returns the group after.
   */
  async updateGroup(
    principal: Principal,
    actor: ScimActor,
    id: string,
    expected: ExpectedVersion,
    change: ((current: DirectoryRecord) => Record<string, unknown>) | undefined,
    members: MemberChange | MemberPlanner | undefined,
  ): Promise<DirectoryRecord> {
    return this.units.run(principal, this.updateGroupCommand(actor, id, expected, change, members));
  }

  updateGroupCommand(
    actor: ScimActor,
    id: string,
    expected: ExpectedVersion,
    change: ((current: DirectoryRecord) => Record<string, unknown>) | undefined,
    members: MemberChange | MemberPlanner | undefined,
  ): Command<DirectoryRecord> {
    return async (unit) => {
      const existing = await unit.repos.directory.findById(GROUP, unit.tenantId, id);
      if (!existing || !ownsGroup(actor, existing)) throw new AppError('group.not_found', `No group with id ${id}.`);
      const events = [];
      let expectedNow = expected;
      const loadMembers = async () => (await unit.repos.memberships.memberNames(GROUP_MEMBERS, unit.tenantId, [id], actor.owner)).get(id) ?? [];
      const memberChange = typeof members === 'function' ? await members(loadMembers) : members;
      if (memberChange) {
        const result = await changeMembers('groups', id, memberChange, expectedNow, memberVisibility(actor))(unit);
        events.push(...result.events);
        // If-Match was judged with the group locked, and the member change may have moved the
        // version since: the record change below must not judge it again.
        expectedNow = undefined;
      }
      if (change) {
        const updated = await updateRecord(GROUP, id, expectedNow, change, true)(unit);
        events.push(...updated.events);
      } else if (!memberChange) {
        checkExpectedVersion('group', existing.version, expected);
      }
      const after = await unit.repos.directory.findById(GROUP, unit.tenantId, id);
      return { value: after as DirectoryRecord, events };
    };
  }

  async deleteGroup(principal: Principal, actor: ScimActor, id: string, expected: ExpectedVersion): Promise<void> {
    await this.units.run(principal, this.deleteGroupCommand(actor, id, expected));
  }

  deleteGroupCommand(actor: ScimActor, id: string, expected: ExpectedVersion): Command<void> {
    return async (unit) => {
      const existing = await unit.repos.directory.findById(GROUP, unit.tenantId, id);
      if (!existing || !ownsGroup(actor, existing)) throw new AppError('group.not_found', `No group with id ${id}.`);
      const { events } = await deleteRecord(GROUP, id, expected)(unit);
      return { value: undefined, events };
    };
  }
}

const ownsUser = (actor: ScimActor, user: User): boolean => actor.owner === undefined || user.provisionedBy === actor.owner;
const ownsGroup = (actor: ScimActor, group: DirectoryRecord): boolean => actor.owner === undefined || group.provisionedBy === actor.owner;
const memberVisibility = (actor: ScimActor) => (actor.owner === undefined ? undefined : (provisionedBy: string | null) => provisionedBy === actor.owner);

/** A manager named by a credential limited to its own users must be one of them (422 as for an unknown one). */
async function requireVisibleManager(unit: UnitOfWork, actor: ScimActor, managerId: string): Promise<void> {
  if (actor.owner === undefined) return;
  const owners = await unit.repos.users.provisionedByOf(unit.tenantId, [managerId]);
  if (owners.get(managerId) !== actor.owner) {
    throw new AppError('user.manager_not_found', `No user with id ${managerId} in this tenant.`, [{ field: '/body/managerId', message: 'no such user' }]);
  }
}

async function requireVisibleUser(unit: UnitOfWork, actor: ScimActor, id: string): Promise<void> {
  const owners = await unit.repos.users.provisionedByOf(unit.tenantId, [id]);
  if (!owners.has(id) || (actor.owner !== undefined && owners.get(id) !== actor.owner)) throw new AppError('user.not_found', `No user with id ${id}.`);
}
