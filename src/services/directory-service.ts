import { AppError } from '../errors/app-error.js';
import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import { DIRECTORY, type DirectoryDefinition, type DirectoryRecord } from '../domain/directory.js';
import { identityEventView } from '../domain/membership.js';
import type { DirectoryEventType, EventType } from '../domain/event-catalogue.js';
import { diffFields, type DomainEvent } from '../domain/event.js';
import type { Principal } from '../domain/principal.js';
import { parseODataFilter } from '../filter/odata-filter-parser.js';
import type { DirectoryPage } from '../repositories/directory-repository.js';
import type { Repositories, Store } from '../repositories/store.js';
import { attributeIndexTarget, toAttributeDefinition } from './attribute-rules.js';
import { buildRecord, patchedInput, publicView } from './directory-rules.js';
import type { ExpectedVersion, ListUsersQuery } from './user-service.js';
import { newEvent } from './event-factory.js';

const CONCURRENT_RETRIES = 3;

/** Create, read, change and delete any directory kind; the definition says what differs. */
export class DirectoryService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(principal: Principal, def: DirectoryDefinition, input: Record<string, unknown>): Promise<DirectoryRecord> {
    const now = this.clock.now().toISOString();
    const record = buildRecord(def, { id: newId(), tenantId: principal.tenantId, createdAt: now, version: 1 }, input, now);
    const created = await this.store.transaction(async (repos) => {
      await this.checkReferences(repos, def, record);
      await repos.directory.insert(def, record);
      await repos.events.append([this.event(principal, def, 'created', record.id, null, record)]);
      return record;
    });
    await this.syncAttributeIndex(def, null, created);
    return created;
  }

  async get(principal: Principal, def: DirectoryDefinition, id: string): Promise<DirectoryRecord> {
    const record = await this.store.repos.directory.findById(def, principal.tenantId, id);
    if (!record) throw new AppError(def.notFound, `No ${label(def)} with id ${id}.`);
    return record;
  }

  async list(principal: Principal, def: DirectoryDefinition, query: ListUsersQuery): Promise<DirectoryPage> {
    if (query.cursor !== undefined && query.skip !== undefined && query.skip > 0) {
      throw new AppError('request.invalid_paging', 'Use either cursor or $skip, not both: a cursor already marks the position.');
    }
    const filter = query.filter === undefined || query.filter.trim() === '' ? undefined : parseODataFilter(query.filter);
    return this.store.repos.directory.list(def, principal.tenantId, {
      filter, orderBy: query.orderBy, cursor: query.cursor, top: query.top, skip: query.skip ?? 0, count: query.count ?? false,
    });
  }

  async replace(principal: Principal, def: DirectoryDefinition, id: string, input: Record<string, unknown>, expected: ExpectedVersion): Promise<DirectoryRecord> {
    return this.modify(principal, def, id, expected, () => input, true);
  }

  async patch(principal: Principal, def: DirectoryDefinition, id: string, patch: Record<string, unknown>, expected: ExpectedVersion): Promise<DirectoryRecord> {
    return this.modify(principal, def, id, expected, (current) => patchedInput(def, current, patch));
  }

  /**
   * Deleting what users depend on: positions and areas still in use are refused (409 with the
   * count); roles, groups, organizations, environments and identity providers take their
   * memberships or links with them, with one event for each user who lost one.
   */
  async delete(principal: Principal, def: DirectoryDefinition, id: string, expected: ExpectedVersion): Promise<void> {
    let deleted: DirectoryRecord | undefined;
    await this.store.transaction(async (repos) => {
      const current = await this.load(repos, def, principal.tenantId, id, expected);
      deleted = current;
      await this.refuseIfReferenced(repos, def, principal.tenantId, id);
      const events: DomainEvent[] = [];
      if (def.kind === 'identity_provider') {
        // The same event as unlinking one identity through the user, once per link.
        for (const link of await repos.identities.listByProvider(principal.tenantId, id)) {
          events.push(this.userEvent(principal, 'user.identity_unlinked', link.userId, { identity: { from: identityEventView(link), to: null } }));
        }
      } else if (def.membership) {
        const { table, column, eventField, eventType } = def.membership;
        const userIds = await repos.directory.memberUserIds(table, column, id);
        const before = await repos.directory.membershipIdsOfUsers(table, column, userIds);
        for (const userId of userIds) {
          const from = [...new Set(before.get(userId) ?? [])];
          events.push(this.userEvent(principal, eventType, userId, { [eventField]: { from, to: from.filter((x) => x !== id) } }));
        }
      }
      await repos.directory.delete(def, principal.tenantId, id);
      events.push(this.event(principal, def, 'deleted', id, current, null));
      await repos.events.append(events);
    });
    if (deleted) await this.syncAttributeIndex(def, deleted, null);
  }

  async descendants(principal: Principal, def: DirectoryDefinition, id: string): Promise<{ record: DirectoryRecord; depth: number }[]> {
    await this.get(principal, def, id);
    return this.store.repos.directory.descendants(def, principal.tenantId, id);
  }

  private async modify(
    principal: Principal,
    def: DirectoryDefinition,
    id: string,
    expected: ExpectedVersion,
    change: (current: DirectoryRecord) => Record<string, unknown>,
    isReplace = false,
  ): Promise<DirectoryRecord> {
    for (let attempt = 0; ; attempt++) {
      let before: DirectoryRecord | undefined;
      const result = await this.store.transaction(async (repos) => {
        const current = await this.load(repos, def, principal.tenantId, id, expected);
        before = current;
        const next = buildRecord(def, current, change(current), this.clock.now().toISOString(), isReplace ? current : undefined);
        const fields = Object.keys(def.fields);
        if (Object.keys(diffFields(current, next, fields)).length === 0) return current;
        next.version = current.version + 1;
        await this.checkReferences(repos, def, next);
        if (!(await repos.directory.update(def, next, current.version))) return undefined;
        await repos.events.append([this.event(principal, def, 'updated', id, current, next)]);
        return next;
      });
      if (result) {
        await this.syncAttributeIndex(def, before ?? null, result);
        return result;
      }
      if (expected !== undefined && expected !== '*') throw new AppError('request.precondition_failed');
      if (attempt + 1 >= CONCURRENT_RETRIES) throw new AppError('user.concurrent_update', `The ${label(def)} was changed concurrently; retry the request.`);
    }
  }

  /**
   * Keeps the expression index of an indexed attribute in step with its definition: created
   * (if not there) whenever the definition is written with indexed=true, even unchanged, so a
   * retry heals a failed build; dropped when no definition of any tenant wants it any more.
   *
   * Runs AFTER the write committed, on the store's own connection: on SQLite the transaction
   * holds the only connection (DDL through store.repos inside it would wait for itself), and on
   * PostgreSQL the index is built CONCURRENTLY, which cannot run in a transaction and does not
   * lock users against writes while it builds. If the build fails the definition is saved and
   * the request fails; repeating the write (PUT/PATCH) builds the index.
   */
  private async syncAttributeIndex(def: DirectoryDefinition, before: DirectoryRecord | null, after: DirectoryRecord | null): Promise<void> {
    if (def.kind !== 'attribute_definition') return;
    const wanted = attributeIndexTarget(after ? toAttributeDefinition(after) : undefined);
    const had = attributeIndexTarget(before ? toAttributeDefinition(before) : undefined);
    const indexes = this.store.repos.attributeIndexes;
    if (wanted) await indexes.ensure(wanted.name, wanted.type);
    if (had && !(wanted && wanted.name === had.name && wanted.type === had.type)) await indexes.dropUnlessUsed(had.name, had.type);
  }

  private async load(repos: Repositories, def: DirectoryDefinition, tenantId: string, id: string, expected: ExpectedVersion): Promise<DirectoryRecord> {
    const record = await repos.directory.findById(def, tenantId, id);
    if (!record) throw new AppError(def.notFound, `No ${label(def)} with id ${id}.`);
    if (typeof expected === 'number' && record.version !== expected) {
      throw new AppError('request.precondition_failed', `The ${label(def)} is at version ${record.version}, not ${expected}. Fetch it again and retry.`);
    }
    return record;
  }

  /** Reference fields must name a record of this tenant; a parent must not be a descendant. */
  private async checkReferences(repos: Repositories, def: DirectoryDefinition, record: DirectoryRecord): Promise<void> {
    for (const [name, f] of Object.entries(def.fields)) {
      const target = record[name];
      if (f.type !== 'reference' || typeof target !== 'string' || !f.references) continue;
      const targetDef = DIRECTORY[f.references];
      if (name === 'parentId' && target === record.id) throw new AppError('directory.parent_cycle', `A ${label(def)} cannot be its own parent.`);
      const found = await repos.directory.existingIds(targetDef, record.tenantId, [target]);
      if (!found.has(target)) {
        throw new AppError('directory.reference_not_found', `No ${label(targetDef)} with id ${target} in this tenant.`, [{ field: `/body/${name}`, message: 'no such record' }]);
      }
      if (name === 'parentId' && def.tree && (await repos.directory.ancestorIds(def, record.tenantId, target)).includes(record.id)) {
        throw new AppError('directory.parent_cycle', `${label(targetDef)} ${target} is below this ${label(def)}; it cannot become its parent.`);
      }
    }
  }

  private async refuseIfReferenced(repos: Repositories, def: DirectoryDefinition, tenantId: string, id: string): Promise<void> {
    const checks: { table: string; column: string; what: string }[] = [];
    if (def.tree) checks.push({ table: def.table, column: 'parent_id', what: `child ${def.title.toLowerCase()}` });
    if (def.userColumn) checks.push({ table: 'users', column: def.userColumn, what: 'users' });
    for (const ref of def.referencedBy ?? []) checks.push({ table: DIRECTORY[ref.kind].table, column: ref.column, what: DIRECTORY[ref.kind].title.toLowerCase() });
    for (const check of checks) {
      const count = await repos.directory.countReferences(check.table, check.column, tenantId, id);
      if (count > 0) throw new AppError('directory.in_use', `The ${label(def)} is still referenced by ${count} ${check.what}; reassign them first.`);
    }
  }

  private event(
    principal: Principal,
    def: DirectoryDefinition,
    action: 'created' | 'updated' | 'deleted',
    id: string,
    before: DirectoryRecord | null,
    after: DirectoryRecord | null,
  ): DomainEvent {
    const view = (r: DirectoryRecord | null) => r && publicView(def, r);
    const fields = [...Object.keys(def.fields), ...(def.kind === 'identity_provider' ? ['configSecrets'] : [])];
    return this.base(principal, `${def.kind}.${action}` satisfies DirectoryEventType, def.kind, id, diffFields(view(before), view(after), fields));
  }

  private userEvent(principal: Principal, type: EventType, userId: string, changes: DomainEvent['changes']): DomainEvent {
    return this.base(principal, type, 'user', userId, changes);
  }

  private base(principal: Principal, type: EventType, resourceType: string, resourceId: string, changes: DomainEvent['changes']): DomainEvent {
    return newEvent(principal, this.clock, type, resourceType, resourceId, changes);
  }
}

export const label = (def: DirectoryDefinition): string => def.kind.replaceAll('_', ' ');
