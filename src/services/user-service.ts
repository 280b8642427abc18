import { AppError } from '../errors/app-error.js';
import { isUuid } from '../lib/ids.js';

/** More attribute definitions than a tenant can sensibly have (a filter loads them to type attributes/<name>). */
const MAX_ATTRIBUTE_DEFINITIONS = 1000;
import { DIRECTORY } from '../domain/directory.js';
import { MAX_REPORTS_DEPTH, type Page, type UserSummary } from '../domain/membership.js';
import { hasScope, type Principal } from '../domain/principal.js';
import type { User, UserInput } from '../domain/user.js';
import { USER_UNCLEARABLE_FIELDS } from '../domain/user-fields.js';
import type { UserStatus } from '../domain/user-lifecycle.js';
import { USER_RELATION_SCOPES, type ExpandRequest, type UserExpansion, type UserRelation } from '../domain/user-expansion.js';
import type { ListQuery } from '../domain/list-query.js';
import type { FilterNode } from '../filter/filter-ast.js';
import type { Repositories, Store } from '../repositories/store.js';
import type { UserListResult } from '../repositories/user-repository.js';
import { attributeFilterTypes, toAttributeDefinition, type AttributeDefinition } from './attribute-rules.js';
import { deleteUser } from './commands/delete-user-command.js';
import type { ExpectedVersion } from './commands/user-checks.js';
import { createUser, transitionUser, updateUser } from './commands/user-commands.js';
import type { UnitRunner } from './unit-of-work.js';
import { applyMergePatch, withinFreeJsonLimits, writableFields } from './user-rules.js';

export type { ExpectedVersion } from './commands/user-checks.js';

/**
 * Users: thin service methods over the user commands (src/services/commands): each write opens
 * one unit of work, runs one command in it and commits; reads go straight to the repositories.
 */
export class UserService {
  constructor(
    private readonly store: Store,
    private readonly units: UnitRunner,
  ) {}

  async create(principal: Principal, input: UserInput): Promise<User> {
    return this.units.run(principal, createUser(input));
  }

  async get(principal: Principal, id: string): Promise<User> {
    const user = await this.store.repos.users.findById(principal.tenantId, id);
    if (!user) throw new AppError('user.not_found', `No user with id ${id}.`);
    return user;
  }

  async getByUserName(principal: Principal, userName: string): Promise<User> {
    // Stored values are trimmed (user-rules.ts): a lookup of what was sent finds what was stored.
    const user = await this.store.repos.users.findByUserName(principal.tenantId, userName.trim());
    if (!user) throw new AppError('user.not_found', `No user with userName ${JSON.stringify(userName)}.`);
    return user;
  }

  async getByExternalId(principal: Principal, origin: string, key: string): Promise<User> {
    const user = await this.store.repos.users.findByExternalId(principal.tenantId, origin, key);
    if (!user) throw new AppError('user.not_found', `No user with external id {origin: ${JSON.stringify(origin)}, key: ${JSON.stringify(key)}}.`);
    return user;
  }

  /** PUT: the body is the whole user; optional fields it omits are cleared, status is kept unless sent. */
  async replace(principal: Principal, id: string, input: UserInput, expected: ExpectedVersion): Promise<User> {
    return this.units.run(principal, updateUser(id, expected, () => input, 'replace'));
  }

  /** PATCH (RFC 7396): only what was sent changes; null clears. */
  async patch(principal: Principal, id: string, patch: Record<string, unknown>, expected: ExpectedVersion): Promise<User> {
    for (const field of USER_UNCLEARABLE_FIELDS) {
      if (patch[field] === null) {
        throw new AppError('request.validation_failed', `${field} cannot be cleared.`, [{ field: `/body/${field}`, message: 'cannot be null' }]);
      }
    }
    return this.units.run(principal, updateUser(id, expected, (current) => withinFreeJsonLimits(applyMergePatch(writableFields(current), patch) as Record<string, unknown>, ['attributes']) as UserInput, 'patch'));
  }

  /** The action endpoints (activate, suspend): a move through the lifecycle table. */
  async setStatus(principal: Principal, id: string, status: UserStatus, expected: ExpectedVersion): Promise<User> {
    return this.units.run(principal, transitionUser(id, status, expected));
  }

  async delete(principal: Principal, id: string, expected: ExpectedVersion): Promise<void> {
    await this.units.run(principal, deleteUser(id, expected));
  }

  /**
   * One page of users. The query is protocol-neutral (a filter tree, sort terms, a page request);
   * the repository resolves filter paths and sort fields against its whitelist and binds the
   * cursor to the whole query. Errors: QueryError naming the query part.
   */
  async list(principal: Principal, query: ListQuery): Promise<UserListResult> {
    if (query.filter) checkFilterScopes(principal, query.filter);
    // Declared attribute types make attributes/<name> typed; loaded only when the filter uses one.
    const attributeTypes =
      query.filter && usesAttributes(query.filter) ? attributeFilterTypes(await this.attributeDefinitions(this.store.repos, principal.tenantId)) : undefined;
    return this.store.repos.users.list(principal.tenantId, { ...query, attributeTypes });
  }

  /**
   * `$expand` for a page of users (or one): ONE query per relation for all of them, whatever the
   * page size. Returns each user's expansion by user id; relations not asked for stay absent.
   * Directory records may be projections holding only the requested fields.
   * 403 `auth.forbidden` when the principal lacks the scope a relation needs (USER_RELATION_SCOPES),
   * even for an empty page: an expansion never shows what the credential cannot read directly.
   */
  async expand(principal: Principal, users: readonly User[], requests: readonly ExpandRequest[]): Promise<Map<string, UserExpansion>> {
    checkExpandScopes(principal, requests);
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
            const byUser = await loaders.memberships(relation, tenantId, userIds, fields);
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

  private async attributeDefinitions(repos: Repositories, tenantId: string): Promise<AttributeDefinition[]> {
    const records = await repos.directory.listAll(DIRECTORY.attribute_definition, tenantId, MAX_ATTRIBUTE_DEFINITIONS);
    return records.map(toAttributeDefinition);
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
    default:
      // attributes/<name>/any(…) iterates a multi-valued attribute; paths inside a lambda start with its variable.
      return node.path[0] === 'attributes';
  }
}

/** The relations a filter reaches into (`groups/any(…)`, `roles/any(…)`), outside lambda bodies. */
function filterRelations(node: FilterNode, found = new Set<UserRelation>()): Set<UserRelation> {
  switch (node.kind) {
    case 'and':
    case 'or':
      filterRelations(node.left, found);
      filterRelations(node.right, found);
      break;
    case 'not':
      filterRelations(node.operand, found);
      break;
    default: {
      const root = node.path[0];
      if (root !== undefined && Object.hasOwn(USER_RELATION_SCOPES, root)) found.add(root as UserRelation);
    }
  }
  return found;
}

/**
 * A filter over a relation reads what it filters on (`roles/any(r: r/weight ge 10)` tells which
 * users hold which roles and their weights): it needs the scope of that relation, as `$expand`
 * and the membership lists do (USER_RELATION_SCOPES). 403 naming the scope otherwise.
 */
function checkFilterScopes(principal: Principal, filter: FilterNode): void {
  const denied = [...filterRelations(filter)].filter((relation) => !hasScope(principal.scopes, USER_RELATION_SCOPES[relation]));
  if (denied.length === 0) return;
  const needs = [...new Set(denied.map((relation) => USER_RELATION_SCOPES[relation]))].join(', ');
  throw new AppError('auth.forbidden', `A $filter over ${denied.join(', ')} needs the ${needs} scope, which this credential lacks.`);
}

function checkExpandScopes(principal: Principal, requests: readonly ExpandRequest[]): void {
  const denied = requests.filter(({ relation }) => !hasScope(principal.scopes, USER_RELATION_SCOPES[relation]));
  if (denied.length === 0) return;
  const needs = [...new Set(denied.map(({ relation }) => USER_RELATION_SCOPES[relation]))].join(', ');
  throw new AppError(
    'auth.forbidden',
    `$expand=${denied.map((d) => d.relation).join(',')} needs the ${needs} scope, which this credential lacks; leave ${denied.length === 1 ? 'it' : 'them'} out or use a credential with ${needs}.`,
  );
}
