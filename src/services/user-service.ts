import { AppError } from '../errors/app-error.js';
import type { Clock } from '../lib/clock.js';
import { isUuid, newId } from '../lib/ids.js';
import { DIRECTORY, type DirectoryDefinition } from '../domain/directory.js';
import { diffFields, type DomainEvent } from '../domain/event.js';
import { MAX_REPORTS_DEPTH, type Page, type UserSummary } from '../domain/membership.js';
import type { Principal } from '../domain/principal.js';
import type { User, UserInput, UserStatus } from '../domain/user.js';
import { USER_EVENT_FIELDS } from '../domain/user-fields.js';
import type { ExpandRequest, UserExpansion } from '../domain/user-expansion.js';
import type { FilterNode } from '../filter/filter-ast.js';
import { parseODataFilter } from '../filter/odata-filter-parser.js';
import type { Repositories, Store } from '../repositories/store.js';
import type { UserListResult } from '../repositories/user-repository.js';
import { attributeFilterTypes, checkAttributes, toAttributeDefinition, type AttributeDefinition } from './attribute-rules.js';
import { applyMergePatch, buildUser, writableFields } from './user-rules.js';
import { newEvent } from './event-factory.js';

export interface ListUsersQuery {
  filter?: string | undefined;
  orderBy?: string | undefined;
  top: number;
  skip?: number | undefined;
  count?: boolean | undefined;
  cursor?: string | undefined;
}

/** `undefined`: no If-Match sent; `'*'`: any current version; a number: exactly that version. */
export type ExpectedVersion = number | '*' | undefined;

const CONCURRENT_RETRIES = 3;
/** More attribute definitions than a tenant can sensibly have; all of them are loaded per write. */
const MAX_ATTRIBUTE_DEFINITIONS = 1000;

export class UserService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(principal: Principal, input: UserInput): Promise<User> {
    const now = this.clock.now().toISOString();
    const user = buildUser({ id: newId(), tenantId: principal.tenantId, createdAt: now, version: 1, status: 'active', lastLoginAt: null }, input, now);
    return this.store.transaction(async (repos) => {
      await this.checkUserAttributes(repos, user, null, true);
      await this.checkManager(repos, user);
      await this.checkDirectoryReferences(repos, user, null);
      await repos.users.insert(user);
      await repos.events.append([this.event(principal, 'user.created', user.id, null, user)]);
      return user;
    });
  }

  async get(principal: Principal, id: string): Promise<User> {
    const user = await this.store.repos.users.findById(principal.tenantId, id);
    if (!user) throw new AppError('user.not_found', `No user with id ${id}.`);
    return user;
  }

  async getByUserName(principal: Principal, userName: string): Promise<User> {
    const user = await this.store.repos.users.findByUserName(principal.tenantId, userName);
    if (!user) throw new AppError('user.not_found', `No user with userName ${JSON.stringify(userName)}.`);
    return user;
  }

  async getByExternalId(principal: Principal, origin: string, key: string): Promise<User> {
    const user = await this.store.repos.users.findByExternalId(principal.tenantId, origin, key);
    if (!user) throw new AppError('user.not_found', `No user with external id {origin: ${JSON.stringify(origin)}, key: ${JSON.stringify(key)}}.`);
    return user;
  }

  /** PUT: the body is the whole user; optional fields it omits are cleared. */
  async replace(principal: Principal, id: string, input: UserInput, expected: ExpectedVersion): Promise<User> {
    return this.modify(principal, id, expected, () => input, 'user.updated', true);
  }

  /** PATCH (RFC 7396): only what was sent changes; null clears. */
  async patch(principal: Principal, id: string, patch: Record<string, unknown>, expected: ExpectedVersion): Promise<User> {
    for (const field of ['userName', 'status'] as const) {
      if (patch[field] === null) {
        throw new AppError('request.validation_failed', `${field} cannot be cleared.`, [{ field: `/body/${field}`, message: 'cannot be null' }]);
      }
    }
    return this.modify(principal, id, expected, (current) => applyMergePatch(writableFields(current), patch) as UserInput);
  }

  async setStatus(principal: Principal, id: string, status: UserStatus, expected: ExpectedVersion): Promise<User> {
    return this.modify(principal, id, expected, (current) => ({ ...(writableFields(current) as UserInput), status }), status === 'active' ? 'user.activated' : 'user.deactivated');
  }

  async delete(principal: Principal, id: string, expected: ExpectedVersion): Promise<void> {
    const now = this.clock.now().toISOString();
    await this.store.transaction(async (repos) => {
      const user = await this.load(repos, principal.tenantId, id, expected);
      // Direct reports lose their manager; each gets its own event so their history explains why.
      const reports = await repos.users.findDirectReports(principal.tenantId, id);
      await repos.users.clearManager(principal.tenantId, id, now);
      const events = reports.map((report) => this.event(principal, 'user.updated', report.id, report, { ...report, managerId: null }));
      await repos.users.delete(principal.tenantId, id);
      events.push(this.event(principal, 'user.deleted', id, user, null));
      await repos.events.append(events);
    });
  }

  async list(principal: Principal, query: ListUsersQuery): Promise<UserListResult> {
    if (query.cursor !== undefined && query.skip !== undefined && query.skip > 0) {
      throw new AppError('request.invalid_paging', 'Use either cursor or $skip, not both: a cursor already marks the position.');
    }
    const filter = query.filter === undefined || query.filter.trim() === '' ? undefined : parseODataFilter(query.filter);
    // Declared attribute types make attributes/<name> typed; loaded only when the filter uses one.
    const attributeTypes = filter && usesAttributes(filter) ? attributeFilterTypes(await this.attributeDefinitions(this.store.repos, principal.tenantId)) : undefined;
    return this.store.repos.users.list(principal.tenantId, {
      filter,
      orderBy: query.orderBy,
      cursor: query.cursor,
      top: query.top,
      skip: query.skip ?? 0,
      count: query.count ?? false,
      attributeTypes,
    });
  }

  /**
   * `$expand` for a page of users (or one): ONE query per relation for all of them, whatever the
   * page size. Returns each user's expansion by user id; relations not asked for stay absent.
   * Directory records may be projections holding only the requested fields.
   */
  async expand(principal: Principal, users: readonly User[], requests: readonly ExpandRequest[]): Promise<Map<string, UserExpansion>> {
    const result = new Map<string, UserExpansion>(users.map((u) => [u.id, {}]));
    if (users.length === 0 || requests.length === 0) return result;
    const { tenantId } = principal;
    const loaders = this.store.repos.userExpand;
    const userIds = users.map((u) => u.id);
    const distinct = (ids: (string | null)[]) => [...new Set(ids.filter((id): id is string => id !== null))];
    const assign = <K extends keyof UserExpansion>(key: K, valueOf: (user: User) => UserExpansion[K]) => {
      for (const user of users) (result.get(user.id) as UserExpansion)[key] = valueOf(user);
    };
    await Promise.all(
      requests.map(async ({ relation, fields }) => {
        switch (relation) {
          case 'manager': {
            const managers = await loaders.usersByIds(tenantId, distinct(users.map((u) => u.managerId)));
            return assign('manager', (u) => (u.managerId ? (managers.get(u.managerId) ?? null) : null));
          }
          case 'position': {
            const positions = await loaders.recordsByIds(DIRECTORY.position, tenantId, distinct(users.map((u) => u.positionId)), fields);
            return assign('position', (u) => (u.positionId ? (positions.get(u.positionId) ?? null) : null));
          }
          case 'area': {
            const areas = await loaders.recordsByIds(DIRECTORY.area, tenantId, distinct(users.map((u) => u.areaId)), fields);
            return assign('area', (u) => (u.areaId ? (areas.get(u.areaId) ?? null) : null));
          }
          case 'roles':
          case 'groups':
          case 'organizations': {
            const kind = ({ roles: 'role', groups: 'group', organizations: 'organization' } as const)[relation];
            const byUser = await loaders.memberships(kind, tenantId, userIds, fields);
            return assign(relation, (u) => byUser.get(u.id) ?? []);
          }
          case 'environments': {
            const byUser = await loaders.environments(tenantId, userIds, fields);
            return assign('environments', (u) => byUser.get(u.id) ?? []);
          }
          case 'identities': {
            const byUser = await loaders.identities(tenantId, userIds);
            return assign('identities', (u) => byUser.get(u.id) ?? []);
          }
        }
      }),
    );
    return result;
  }

  /** Direct reports of a manager, or with `all` the whole subtree (each with its depth), paged by user id. */
  async reports(principal: Principal, id: string, query: { all: boolean; limit: number; cursor?: string | undefined }): Promise<Page<UserSummary>> {
    if (query.cursor !== undefined && !isUuid(query.cursor)) throw new AppError('request.invalid_cursor', 'The cursor must be a value returned as nextCursor.');
    const repos = this.store.repos;
    if (!(await repos.users.exists(principal.tenantId, id))) throw new AppError('user.not_found', `No user with id ${id}.`);
    return repos.users.reports(principal.tenantId, id, { all: query.all, limit: query.limit, cursor: query.cursor, maxDepth: MAX_REPORTS_DEPTH });
  }

  /**
   * Read-modify-write under optimistic concurrency. Without If-Match a lost race is retried on
   * fresh data; with If-Match the caller asked for exactly that version, so it gets 412.
   */
  private async modify(principal: Principal, id: string, expected: ExpectedVersion, change: (current: User) => UserInput, eventType = 'user.updated', isReplace = false): Promise<User> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.store.transaction(async (repos) => {
        const current = await this.load(repos, principal.tenantId, id, expected);
        const now = this.clock.now().toISOString();
        const next = buildUser(current, change(current), now);
        const changes = diffFields(writableFields(current), writableFields(next), USER_EVENT_FIELDS);
        if (Object.keys(changes).length === 0) return current;
        next.version = current.version + 1;
        if (changes.attributes) await this.checkUserAttributes(repos, next, current, isReplace);
        if (changes.managerId) await this.checkManager(repos, next);
        await this.checkDirectoryReferences(repos, next, current);
        if (!(await repos.users.update(next, current.version, changes.externalIds !== undefined))) return undefined;
        await repos.events.append([this.event(principal, eventType, id, current, next)]);
        return next;
      });
      if (result) return result;
      if (expected !== undefined && expected !== '*') throw new AppError('request.precondition_failed');
      if (attempt + 1 >= CONCURRENT_RETRIES) throw new AppError('user.concurrent_update');
    }
  }

  private async load(repos: Repositories, tenantId: string, id: string, expected: ExpectedVersion): Promise<User> {
    const user = await repos.users.findById(tenantId, id);
    if (!user) throw new AppError('user.not_found', `No user with id ${id}.`);
    if (typeof expected === 'number' && user.version !== expected) {
      throw new AppError('request.precondition_failed', `The user is at version ${user.version}, not ${expected}. Fetch it again and retry.`);
    }
    return user;
  }

  private async checkManager(repos: Repositories, user: User): Promise<void> {
    if (user.managerId === null) return;
    if (user.managerId === user.id) throw new AppError('user.manager_cycle', 'A user cannot be their own manager.');
    if (!(await repos.users.exists(user.tenantId, user.managerId))) {
      throw new AppError('user.manager_not_found', `No user with id ${user.managerId} in this tenant.`, [{ field: '/body/managerId', message: 'no such user' }]);
    }
    const chain = await repos.users.managerChain(user.tenantId, user.managerId);
    if (chain.includes(user.id)) throw new AppError('user.manager_cycle', `User ${user.managerId} already reports (directly or indirectly) to this user.`);
  }

  /**
   * Once the tenant defines attributes, new or changed attribute values must match their
   * definitions; create and replace must carry every required one (see attribute-rules.ts).
   * Definitions are read through the transaction's own repos.
   */
  private async checkUserAttributes(repos: Repositories, user: User, previous: User | null, requireAll: boolean): Promise<void> {
    const definitions = await this.attributeDefinitions(repos, user.tenantId);
    checkAttributes(user.attributes, definitions, { previous: previous?.attributes, requireAll });
  }

  private async attributeDefinitions(repos: Repositories, tenantId: string): Promise<AttributeDefinition[]> {
    const records = await repos.directory.listAll(DIRECTORY.attribute_definition, tenantId, MAX_ATTRIBUTE_DEFINITIONS);
    return records.map(toAttributeDefinition);
  }

  /** Position, area and identification types must exist in the user's tenant (checked when changed). */
  private async checkDirectoryReferences(repos: Repositories, user: User, previous: User | null): Promise<void> {
    const refs: { def: DirectoryDefinition; field: string; ids: string[] }[] = [];
    if (user.positionId && user.positionId !== previous?.positionId) refs.push({ def: DIRECTORY.position, field: 'positionId', ids: [user.positionId] });
    if (user.areaId && user.areaId !== previous?.areaId) refs.push({ def: DIRECTORY.area, field: 'areaId', ids: [user.areaId] });
    const before = new Set(previous?.identifications.map((i) => i.typeId));
    const newTypes = user.identifications.map((i) => i.typeId).filter((id) => !before.has(id));
    if (newTypes.length > 0) refs.push({ def: DIRECTORY.identification_type, field: 'identifications', ids: newTypes });
    for (const ref of refs) {
      const found = await repos.directory.existingIds(ref.def, user.tenantId, ref.ids);
      const missing = ref.ids.filter((id) => !found.has(id));
      if (missing.length > 0) {
        throw new AppError('user.reference_not_found', `No ${ref.def.kind.replaceAll('_', ' ')} with id ${missing.join(', ')} in this tenant.`, [{ field: `/body/${ref.field}`, message: 'no such record' }]);
      }
    }
  }

  private event(principal: Principal, type: string, resourceId: string, before: User | null, after: User | null): DomainEvent {
    return newEvent(principal, this.clock, type, 'user', resourceId, diffFields(before && writableFields(before), after && writableFields(after), USER_EVENT_FIELDS));
  }
}

/** Whether a filter reads attributes/<name> anywhere (only then are definitions needed). */
function usesAttributes(node: FilterNode): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return usesAttributes(node.left) || usesAttributes(node.right);
    case 'not':
      return usesAttributes(node.operand);
    case 'any':
      return false; // paths inside a lambda start with its variable
    default:
      return node.path[0] === 'attributes';
  }
}
