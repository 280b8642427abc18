import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { parseJson } from '../db/json-columns.js';
import { DIRECTORY, type DirectoryDefinition, type DirectoryRecord, type MembershipKind } from '../domain/directory.js';
import { MEMBERSHIPS } from '../domain/membership.js';
import type { User } from '../domain/user.js';
import type { EnvironmentMembership, UserIdentityLink } from '../domain/user-expansion.js';
import { directoryRecordFromRow } from './directory-repository.js';
import { toUser } from './user-repository.js';

type Row = Record<string, unknown>;

/** The membership kinds expanded as plain records (environments carry permissions: `environments`). */
type RecordMembershipKind = Exclude<MembershipKind, 'environments'>;

/**
 * The loaders behind `$expand` on users. Each takes the ids of a whole page and runs ONE query
 * (`… in (…)`), so expanding a page of 100 users costs one query per relation, never one per
 * user. Every query is scoped to the tenant as well.
 */
export class UserExpandRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Users by id (managers), keyed by id. */
  async usersByIds(tenantId: string, ids: readonly string[]): Promise<Map<string, User>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', [...ids]).execute();
    return new Map(rows.map((r) => [r.id, toUser(r)]));
  }

  /**
   * Directory records (positions, areas) by id, keyed by id. With `fields`, only those columns
   * are read and the records hold only those fields (and id).
   */
  async recordsByIds(def: DirectoryDefinition, tenantId: string, ids: readonly string[], fields?: readonly string[]): Promise<Map<string, DirectoryRecord>> {
    if (ids.length === 0) return new Map();
    const result = await sql<Row>`select ${columnsOf(def, fields)} from ${sql.table(def.table)} as t where t.tenant_id = ${tenantId} and t.id in (${sql.join([...ids])})`.execute(this.db);
    return new Map(result.rows.map((r) => [r.id as string, directoryRecordFromRow(def, r)]));
  }

  /**
   * The roles, groups or organizations of each user, by name. Users sharing a group share one
   * record object (a page of 100 users in 3 of 50 groups builds 50 records, not 300).
   */
  async memberships(kind: RecordMembershipKind, tenantId: string, userIds: readonly string[], fields?: readonly string[]): Promise<Map<string, DirectoryRecord[]>> {
    const def = MEMBERSHIPS[kind].target;
    const rows = await this.membershipRows(def, tenantId, userIds, fields, false);
    const records = new Map<string, DirectoryRecord>();
    return groupBy(rows, (r) => {
      let record = records.get(r.id as string);
      if (!record) records.set(r.id as string, (record = directoryRecordFromRow(def, r)));
      return record;
    });
  }

  /** The environments of each user with the permissions of the membership, by name. */
  async environments(tenantId: string, userIds: readonly string[], fields?: readonly string[]): Promise<Map<string, EnvironmentMembership[]>> {
    const def = DIRECTORY.environment;
    const rows = await this.membershipRows(def, tenantId, userIds, fields, true);
    return groupBy(rows, (r) => ({ environment: directoryRecordFromRow(def, r), permissions: parseJson<string[]>(r.member_permissions, []) }));
  }

  /** The identity provider links of each user (with the provider's name and alias), oldest first. */
  async identities(tenantId: string, userIds: readonly string[]): Promise<Map<string, UserIdentityLink[]>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('user_identities as i')
      .innerJoin('identity_providers as p', 'p.id', 'i.provider_id')
      .select(['i.id', 'i.user_id as member_user_id', 'i.provider_id', 'p.name as provider_name', 'p.alias as provider_alias', 'i.subject', 'i.user_name', 'i.created_at'])
      .where('i.tenant_id', '=', tenantId)
      .where('i.user_id', 'in', [...userIds])
      .orderBy('i.created_at')
      .orderBy('i.id')
      .execute();
    return groupBy(rows, (r) => ({
      id: r.id,
      providerId: r.provider_id,
      providerName: r.provider_name,
      providerAlias: r.provider_alias,
      subject: r.subject,
      userName: r.user_name,
      createdAt: r.created_at,
    }));
  }

  /**
   * One query: the membership rows of all the users joined to the directory table. Table and
   * column names come from DIRECTORY (code), never from input.
   */
  private async membershipRows(def: DirectoryDefinition, tenantId: string, userIds: readonly string[], fields: readonly string[] | undefined, withPermissions: boolean): Promise<Row[]> {
    const membership = def.membership;
    if (userIds.length === 0 || !membership) return [];
    const permissions = withPermissions ? sql`, m.permissions as member_permissions` : sql``;
    const result = await sql<Row>`
      select ${columnsOf(def, fields)}, m.user_id as member_user_id${permissions}
      from ${sql.table(membership.table)} as m
      join ${sql.table(def.table)} as t on t.id = ${sql.ref(`m.${membership.column}`)}
      where m.tenant_id = ${tenantId} and m.user_id in (${sql.join([...userIds])})
      order by t.name_lower, t.id`.execute(this.db);
    return result.rows;
  }
}

const FRAME_COLUMNS: Record<string, string> = { id: 'id', createdAt: 'created_at', updatedAt: 'updated_at', version: 'version' };

/**
 * The columns of table alias `t` behind the public fields asked for (all of them when none
 * were named). Names come from the definition, never from input: an unknown field is skipped
 * (parseExpand has already refused it).
 */
function columnsOf(def: DirectoryDefinition, fields: readonly string[] | undefined) {
  if (!fields) return sql`t.*`;
  const columns = new Set(['id']);
  for (const field of fields) {
    const column = FRAME_COLUMNS[field] ?? (Object.hasOwn(def.fields, field) ? def.fields[field]?.column : undefined);
    if (column) columns.add(column);
  }
  return sql.join([...columns].map((c) => sql.ref(`t.${c}`)));
}

function groupBy<R extends Row, T>(rows: readonly R[], map: (row: R) => T): Map<string, T[]> {
  const byUser = new Map<string, T[]>();
  for (const row of rows) {
    const userId = row.member_user_id as string;
    const list = byUser.get(userId);
    if (list) list.push(map(row));
    else byUser.set(userId, [map(row)]);
  }
  return byUser;
}
