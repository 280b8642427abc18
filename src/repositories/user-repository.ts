import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB, UserTable } from '../db/schema.js';
import { parseJson, toJson } from '../db/json-columns.js';
import type { ExternalId, Identification, User, UserStatus } from '../domain/user.js';
import { fromDbBool, toDbBool } from '../db/booleans.js';
import type { FieldType } from '../filter/filter-schema.js';
import type { ListQuery } from '../domain/list-query.js';
import { fetchPage, type PageOf } from './keyset-page.js';
import { USER_SORTABLE, userFilterSchema } from './user-query.js';
import type { Page, UserSummary } from '../domain/membership.js';
import { toSummary } from './membership-repository.js';

export interface UserListQuery extends ListQuery {
  /** Declared types of the tenant's attributes, for `attributes/<name>` in the filter. */
  attributeTypes?: ReadonlyMap<string, FieldType> | undefined;
}

export type UserListResult = PageOf<User>;

export class UserRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  /** One page of users (keyset paging: see keyset-page.ts). */
  async list(tenantId: string, q: UserListQuery): Promise<UserListResult> {
    const schema = { filter: userFilterSchema(q.attributeTypes), sortable: USER_SORTABLE };
    return fetchPage(this.db as never, this.dialect, 'users', tenantId, schema, q, (row) => toUser(row as unknown as Selectable<UserTable>));
  }

  async findById(tenantId: string, id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    return row && toUser(row);
  }

  /**
   * The user, locked for the rest of the transaction on PostgreSQL (SELECT … FOR UPDATE), so a
   * read-check-write on one user runs one writer at a time: concurrent PATCHes queue instead of
   * failing, and of 16 concurrent DELETEs exactly one finds the user. SQLite has one writer anyway.
   */
  async findByIdForUpdate(tenantId: string, id: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .where('tenant_id', '=', tenantId)
      .$if(this.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    return row && toUser(row);
  }

  /**
   * A new version for users whose related data changed (memberships): their ETag moves, so a
   * cache or a later If-Match sees the change. Returns how many users were touched.
   */
  async bumpVersions(tenantId: string, ids: readonly string[], updatedAt: string): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.db
      .updateTable('users')
      .set((eb) => ({ version: eb('version', '+', 1), updated_at: updatedAt }))
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', [...new Set(ids)].sort())
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async findByUserName(tenantId: string, userName: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('user_name_lower', '=', userName.toLowerCase())
      .executeTakeFirst();
    return row && toUser(row);
  }

  async findByExternalId(tenantId: string, origin: string, key: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('user_external_ids as e')
      .innerJoin('users', 'users.id', 'e.user_id')
      .selectAll('users')
      .where('e.tenant_id', '=', tenantId)
      .where('e.origin', '=', origin)
      .where('e.key', '=', key)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async exists(tenantId: string, id: string): Promise<boolean> {
    const row = await this.db.selectFrom('users').select('id').where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    return row !== undefined;
  }

  async insert(user: User): Promise<void> {
    await this.db.insertInto('users').values(toRow(user, this.dialect)).execute();
    await this.insertExternalIds(user.tenantId, user.id, user.externalIds);
  }

  /**
   * Writes the whole user if its stored version is still `expectedVersion` (optimistic
   * concurrency: a concurrent writer makes this return false instead of silently losing data).
   */
  async update(user: User, expectedVersion: number, externalIdsChanged: boolean): Promise<boolean> {
    const { id, tenant_id, created_at: _createdAt, ...changes } = toRow(user, this.dialect);
    const result = await this.db
      .updateTable('users')
      .set(changes)
      .where('id', '=', id)
      .where('tenant_id', '=', tenant_id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    if (externalIdsChanged) {
      await this.db.deleteFrom('user_external_ids').where('user_id', '=', user.id).execute();
      await this.insertExternalIds(user.tenantId, user.id, user.externalIds);
    }
    return true;
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * Detaches every direct report from a manager in one statement (each gets a new version).
   * Returns the ids of the reports it detached, in id order: exactly the rows it changed.
   */
  async clearManager(tenantId: string, managerId: string, updatedAt: string): Promise<string[]> {
    const rows = await this.db
      .updateTable('users')
      .set((eb) => ({ manager_id: null, updated_at: updatedAt, version: eb('version', '+', 1) }))
      .where('tenant_id', '=', tenantId)
      .where('manager_id', '=', managerId)
      .returning('id')
      .execute();
    return rows.map((r) => r.id).sort();
  }

  async findDirectReports(tenantId: string, managerId: string): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('manager_id', '=', managerId).execute();
    return rows.map(toUser);
  }

  /**
   * The ids on the management chain above `userId` (its manager, their manager, …), in one
   * recursive query. Bounded so a corrupted chain can never loop forever.
   */
  async managerChain(tenantId: string, userId: string, maxDepth = 1000): Promise<string[]> {
    const result = await sql<{ id: string }>`
      with recursive chain(id, depth) as (
        select manager_id, 1 from users where id = ${userId} and tenant_id = ${tenantId} and manager_id is not null
        union all
        select u.manager_id, chain.depth + 1 from users u join chain on u.id = chain.id
        where u.tenant_id = ${tenantId} and u.manager_id is not null and chain.depth < ${maxDepth}
      )
      select id from chain`.execute(this.db);
    return result.rows.map((r) => r.id);
  }

  private async insertExternalIds(tenantId: string, userId: string, externalIds: ExternalId[]): Promise<void> {
    if (externalIds.length === 0) return;
    await this.db
      .insertInto('user_external_ids')
      .values(externalIds.map((e) => ({ tenant_id: tenantId, origin: e.origin, key: e.key, user_id: userId })))
      .execute();
  }

  /**
   * A manager's reports, one page in user id order (keyset: ids after `cursor`): the direct
   * reports (depth 1), or with `all` the whole subtree in one recursive query, each user once at
   * their smallest depth. Bounded by `maxDepth` so a corrupted chain can never loop forever.
   */
  async reports(tenantId: string, managerId: string, q: { all: boolean; limit: number; cursor: string | undefined; maxDepth: number }): Promise<Page<UserSummary>> {
    const after = q.cursor === undefined ? sql`` : sql`and u.id > ${q.cursor}`;
    const tree = q.all
      ? sql`
        with recursive sub(id, depth) as (
          select id, 1 from users where tenant_id = ${tenantId} and manager_id = ${managerId}
          union all
          select u.id, sub.depth + 1 from users u join sub on u.manager_id = sub.id
          where u.tenant_id = ${tenantId} and sub.depth < ${q.maxDepth}
        ),
        best(id, depth) as (select id, min(depth) from sub group by id)`
      : sql`with best(id, depth) as (select id, 1 from users where tenant_id = ${tenantId} and manager_id = ${managerId})`;
    const result = await sql<Record<string, unknown>>`
      ${tree}
      select u.id, u.user_name, u.display_name, u.email, u.status, u.manager_id, best.depth as depth
      from best join users u on u.id = best.id
      where u.tenant_id = ${tenantId} and u.id <> ${managerId} ${after}
      order by u.id
      limit ${q.limit + 1}`.execute(this.db);
    const items = result.rows.slice(0, q.limit).map((r) => toSummary(r));
    const last = items.at(-1);
    return { items, nextCursor: result.rows.length > q.limit && last ? last.id : null };
  }
}

export function toUser(row: Selectable<UserTable>): User {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userName: row.user_name,
    email: row.email,
    givenName: row.given_name,
    familyName: row.family_name,
    displayName: row.display_name,
    title: row.title,
    department: row.department,
    employeeId: row.employee_id,
    employmentType: row.employment_type,
    costCenter: row.cost_center,
    phone: row.phone,
    country: row.country,
    locale: row.locale,
    managerId: row.manager_id,
    positionId: row.position_id,
    areaId: row.area_id,
    preventDeprovision: fromDbBool(row.prevent_deprovision),
    identifications: parseJson<Identification[]>(row.identifications, []),
    externalIds: parseJson<ExternalId[]>(row.external_ids, []),
    attributes: parseJson<Record<string, unknown>>(row.attributes, {}),
    tags: parseJson<string[]>(row.tags, []),
    status: row.status as UserStatus,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
    version: row.version,
  };
}

function toRow(user: User, dialect: Dialect) {
  return {
    id: user.id,
    tenant_id: user.tenantId,
    user_name: user.userName,
    user_name_lower: user.userName.toLowerCase(),
    email: user.email,
    email_lower: user.email?.toLowerCase() ?? null,
    given_name: user.givenName,
    family_name: user.familyName,
    display_name: user.displayName,
    title: user.title,
    department: user.department,
    employee_id: user.employeeId,
    employment_type: user.employmentType,
    cost_center: user.costCenter,
    phone: user.phone,
    country: user.country,
    locale: user.locale,
    manager_id: user.managerId,
    position_id: user.positionId,
    area_id: user.areaId,
    prevent_deprovision: toDbBool(dialect, user.preventDeprovision),
    identifications: toJson(user.identifications),
    // externalIds also live in user_external_ids (for uniqueness and lookup); the copy on the row
    // lets every read return them without a second query.
    external_ids: toJson(user.externalIds),
    attributes: toJson(user.attributes),
    tags: toJson(user.tags),
    status: user.status,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
    last_login_at: user.lastLoginAt,
    version: user.version,
  };
}
