import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { parseJson, toJson } from '../db/json-columns.js';
import {
  normalizePermissions, type EnvironmentPermission, type MembershipDefinition, type MembershipEntry, type MembershipTarget, type Page, type PageQuery, type UserSummary,
} from '../domain/membership.js';

type Row = Record<string, unknown>;

/** Ids per locking statement: far below PostgreSQL's 65,535 bound parameters. */
const LOCK_CHUNK = 10_000;

/**
 * The membership tables (user_roles, user_groups, user_organizations, user_environments). They
 * share one shape, so one repository serves them all; table and column names come from
 * MEMBERSHIPS (code), never from input.
 */
export class MembershipRepository {
  // Kysely's types follow static table names; these come from the membership definitions.
  private readonly any: Kysely<Record<string, Row>>;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {
    this.any = db as unknown as Kysely<Record<string, Row>>;
  }

  /**
   * Whether the user exists in the tenant. On PostgreSQL it also locks the user row until the
   * transaction ends, so two changes to one user's memberships run one after the other and each
   * event's before/after lists are exact (SQLite runs one write transaction at a time anyway).
   */
  async lockUser(tenantId: string, userId: string): Promise<{ version: number } | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'version'])
      .where('tenant_id', '=', tenantId)
      .where('id', '=', userId)
      .$if(this.dialect === 'postgres', (q) => q.forNoKeyUpdate())
      .executeTakeFirst();
    return row && { version: Number(row.version) };
  }

  /**
   * The target's version, holding it (PostgreSQL FOR KEY SHARE) as `existingTargetIds` with `lock`
   * does; with `exclusive`, FOR NO KEY UPDATE: changes of the target's member list from its own
   * side (changeMembers) then run one at a time, and an If-Match judged here stays true.
   */
  async lockTarget(def: MembershipDefinition, tenantId: string, targetId: string, exclusive = false): Promise<{ version: number } | undefined> {
    const row = await this.any
      .selectFrom(def.targetTable)
      .select(['id', 'version'])
      .where('tenant_id', '=', tenantId)
      .where('id', '=', targetId)
      .$if(this.dialect === 'postgres', (q) => (exclusive ? q.forNoKeyUpdate() : q.forKeyShare()))
      .executeTakeFirst();
    return row && { version: Number(row.version) };
  }

  /**
   * Locks users (PostgreSQL) in id order for the rest of the transaction, the order every write
   * that touches several users takes: concurrent writes queue instead of deadlocking. SQLite has
   * one writer, so there is nothing to lock (and a 50,000-member list would not fit in one
   * statement's parameters there); PostgreSQL locks in chunks, still in id order.
   */
  async lockUsers(tenantId: string, userIds: readonly string[]): Promise<void> {
    if (this.dialect !== 'postgres') return;
    const ids = [...new Set(userIds)].sort();
    for (let i = 0; i < ids.length; i += LOCK_CHUNK) {
      await this.db
        .selectFrom('users')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('id', 'in', ids.slice(i, i + LOCK_CHUNK))
        .orderBy('id')
        .forNoKeyUpdate()
        .execute();
    }
  }

  /**
   * Which of `ids` are targets of this kind in the tenant (one query). With `lock`, the rows are
   * held (PostgreSQL FOR KEY SHARE) so a concurrent delete of the target waits for this
   * transaction, or this one finds the target gone, instead of a foreign-key failure.
   */
  async existingTargetIds(def: MembershipDefinition, tenantId: string, ids: readonly string[], lock = false): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.any
      .selectFrom(def.targetTable)
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', [...ids])
      .$if(lock && this.dialect === 'postgres', (q) => q.orderBy('id').forKeyShare())
      .execute();
    return new Set(rows.map((r) => r.id as string));
  }

  /** Several users' memberships of one kind as stored, by user (one query; for event before/after). */
  async entriesOfUsers(def: MembershipDefinition, tenantId: string, userIds: readonly string[]): Promise<Map<string, MembershipEntry[]>> {
    const byUser = new Map<string, MembershipEntry[]>();
    if (userIds.length === 0) return byUser;
    const columns = def.permissions ? ['user_id', def.column, 'permissions'] : ['user_id', def.column];
    const rows: Row[] = [];
    // In chunks: the members of a large group are more ids than one statement may bind.
    for (let i = 0; i < userIds.length; i += 1000) {
      rows.push(
        ...(await this.any
          .selectFrom(def.table)
          .select(columns)
          .where('tenant_id', '=', tenantId)
          .where('user_id', 'in', userIds.slice(i, i + 1000))
          .orderBy(def.column)
          .execute()),
      );
    }
    for (const r of rows) {
      const list = byUser.get(r.user_id as string) ?? [];
      list.push({ targetId: r[def.column] as string, ...(def.permissions ? { permissions: readPermissions(r.permissions) } : {}) });
      byUser.set(r.user_id as string, list);
    }
    return byUser;
  }

  /** The user's memberships of one kind as stored (target id and, for environments, permissions). */
  async entriesOfUser(def: MembershipDefinition, tenantId: string, userId: string): Promise<MembershipEntry[]> {
    const columns = def.permissions ? [def.column, 'permissions'] : [def.column];
    const rows = await this.any.selectFrom(def.table).select(columns).where('tenant_id', '=', tenantId).where('user_id', '=', userId).orderBy(def.column).execute();
    return rows.map((r) => ({ targetId: r[def.column] as string, ...(def.permissions ? { permissions: readPermissions(r.permissions) } : {}) }));
  }

  /** The user's roles/groups/… with their names, sorted by name. */
  async targetsOfUser(def: MembershipDefinition, tenantId: string, userId: string): Promise<MembershipTarget[]> {
    const rows = await this.targetQuery(def, tenantId, userId).orderBy('t.name_lower').orderBy('t.id').execute();
    return rows.map((r) => toTarget(def, r));
  }

  /** One of the user's memberships with the target's name, if the user has it. */
  async targetOfUser(def: MembershipDefinition, tenantId: string, userId: string, targetId: string): Promise<MembershipTarget | undefined> {
    const row = await this.targetQuery(def, tenantId, userId).where(`m.${def.column}`, '=', targetId).executeTakeFirst();
    return row && toTarget(def, row);
  }

  /**
   * Adds memberships in one statement. A membership that already exists (a concurrent add) is
   * left alone by the primary key, never duplicated. Returns how many rows were inserted.
   */
  async insert(def: MembershipDefinition, tenantId: string, userId: string, entries: readonly MembershipEntry[], now: string): Promise<number> {
    if (entries.length === 0) return 0;
    const result = await this.any
      .insertInto(def.table)
      .values(
        entries.map((e) => ({
          tenant_id: tenantId,
          user_id: userId,
          [def.column]: e.targetId,
          created_at: now,
          ...(def.permissions ? { permissions: toJson(normalizePermissions(e.permissions ?? [])) } : {}),
        })),
      )
      .onConflict((oc) => oc.columns(['user_id', def.column]).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n);
  }

  /**
   * Adds many users to one target (a group's side of a SCIM change): a few multi-row statements,
   * an existing membership left alone by the primary key. For kinds without permissions.
   */
  async insertMembers(def: MembershipDefinition, tenantId: string, targetId: string, userIds: readonly string[], now: string): Promise<void> {
    for (let i = 0; i < userIds.length; i += 500) {
      await this.any
        .insertInto(def.table)
        .values(userIds.slice(i, i + 500).map((userId) => ({ tenant_id: tenantId, user_id: userId, [def.column]: targetId, created_at: now })))
        .onConflict((oc) => oc.columns(['user_id', def.column]).doNothing())
        .execute();
    }
  }

  /** Removes many users from one target, in chunks of ids. */
  async removeMembers(def: MembershipDefinition, tenantId: string, targetId: string, userIds: readonly string[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += 1000) {
      await this.any.deleteFrom(def.table).where('tenant_id', '=', tenantId).where(def.column, '=', targetId).where('user_id', 'in', userIds.slice(i, i + 1000)).execute();
    }
  }

  /** Removes the user's memberships of these targets in one statement; returns how many went. */
  async remove(def: MembershipDefinition, tenantId: string, userId: string, targetIds: readonly string[]): Promise<number> {
    if (targetIds.length === 0) return 0;
    const result = await this.any
      .deleteFrom(def.table)
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where(def.column, 'in', [...targetIds])
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Sets the permissions of several environment memberships of one user in one statement. */
  async updateEnvironmentPermissions(tenantId: string, userId: string, entries: readonly MembershipEntry[]): Promise<void> {
    if (entries.length === 0) return;
    // jsonb on PostgreSQL: a CASE branch is not assigned straight to the column, so cast it.
    const json = (value: EnvironmentPermission[]) => (this.dialect === 'postgres' ? sql`cast(${toJson(value)} as jsonb)` : sql`${toJson(value)}`);
    const cases = sql.join(entries.map((e) => sql`when ${e.targetId} then ${json(normalizePermissions(e.permissions ?? []))}`), sql` `);
    await this.db
      .updateTable('user_environments')
      .set({ permissions: sql<string>`case environment_id ${cases} end` })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('environment_id', 'in', entries.map((e) => e.targetId))
      .execute();
  }

  /** One page of a target's members, in user id order (keyset: users after `cursor`). */
  async members(def: MembershipDefinition, tenantId: string, targetId: string, page: PageQuery): Promise<Page<UserSummary>> {
    const rows = await this.memberQuery(def, tenantId, targetId)
      .$if(page.cursor !== undefined, (q) => q.where('m.user_id', '>', page.cursor as string))
      .orderBy('m.user_id')
      .limit(page.limit + 1)
      .execute();
    const items = rows.slice(0, page.limit).map((r) => toSummary(r, def.permissions));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > page.limit && last ? last.id : null };
  }

  /**
   * The targets (id and name) of each of these users, by user id, sorted by name: what a SCIM
   * User's `groups` shows (with `provisionedBy`, only the groups that origin provisioned). SQL
   * text (built once per list length): it runs on every SCIM read.
   */
  async targetNamesOfUsers(def: MembershipDefinition, tenantId: string, userIds: readonly string[], provisionedBy?: string): Promise<Map<string, { id: string; name: string }[]>> {
    const byUser = new Map<string, { id: string; name: string }[]>();
    if (userIds.length === 0) return byUser;
    const ids = sql.join(userIds.map((id) => sql`${id}`));
    // Only groups record who provisioned them: `provisionedBy` is for them.
    const owned = provisionedBy === undefined ? sql`` : sql` and t.provisioned_by = ${provisionedBy}`;
    const { rows } = await sql<{ user_id: string; id: string; name: string }>`
      select m.user_id, t.id, t.name from ${sql.table(def.table)} m join ${sql.table(def.targetTable)} t on t.id = ${sql.ref(`m.${def.column}`)}
      where m.tenant_id = ${tenantId} and m.user_id in (${ids})${owned} order by t.name_lower, t.id`.execute(this.db);
    for (const row of rows) {
      const list = byUser.get(row.user_id) ?? [];
      list.push({ id: row.id, name: row.name });
      byUser.set(row.user_id, list);
    }
    return byUser;
  }

  /** Every member's user id, in id order (one query; a SCIM replace of a group's list reads it once). */
  async memberIds(def: MembershipDefinition, tenantId: string, targetId: string): Promise<string[]> {
    const rows = await this.any.selectFrom(def.table).select('user_id').where('tenant_id', '=', tenantId).where(def.column, '=', targetId).orderBy('user_id').execute();
    return rows.map((r) => r.user_id as string);
  }

  /** Which of `userIds` are members of the target (chunked: a list may be longer than a statement's parameters). */
  async memberIdsAmong(def: MembershipDefinition, tenantId: string, targetId: string, userIds: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (let i = 0; i < userIds.length; i += 1000) {
      const rows = await this.any
        .selectFrom(def.table)
        .select('user_id')
        .where('tenant_id', '=', tenantId)
        .where(def.column, '=', targetId)
        .where('user_id', 'in', userIds.slice(i, i + 1000))
        .execute();
      for (const r of rows) found.push(r.user_id as string);
    }
    return found;
  }

  /**
   * The members of each target with their display names, in user id order, by target id: what a
   * SCIM Group's `members` shows (one query per 500 targets, so a page of groups costs one). With
   * `provisionedBy`, only the members that origin provisioned (a SCIM credential limited to its
   * own users sees no others).
   */
  async memberNames(def: MembershipDefinition, tenantId: string, targetIds: readonly string[], provisionedBy?: string): Promise<Map<string, { id: string; displayName: string }[]>> {
    const byTarget = new Map<string, { id: string; displayName: string }[]>(targetIds.map((id) => [id, []]));
    for (let i = 0; i < targetIds.length; i += 500) {
      const rows = await this.any
        .selectFrom(`${def.table} as m`)
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select(['u.id as id', 'u.display_name as display_name', `m.${def.column} as target_id`])
        .where('m.tenant_id', '=', tenantId)
        .where(`m.${def.column}`, 'in', targetIds.slice(i, i + 500))
        .$if(provisionedBy !== undefined, (q) => q.where('u.provisioned_by', '=', provisionedBy as string))
        .orderBy('m.user_id')
        .execute();
      for (const r of rows) byTarget.get(r.target_id as string)?.push({ id: r.id as string, displayName: r.display_name as string });
    }
    return byTarget;
  }

  async member(def: MembershipDefinition, tenantId: string, targetId: string, userId: string): Promise<UserSummary | undefined> {
    const row = await this.memberQuery(def, tenantId, targetId).where('m.user_id', '=', userId).executeTakeFirst();
    return row && toSummary(row, def.permissions);
  }

  private targetQuery(def: MembershipDefinition, tenantId: string, userId: string) {
    const columns = ['t.id as id', 't.name as name'];
    if (def.extra) columns.push(`t.${def.extra} as ${def.extra}`);
    if (def.permissions) columns.push('m.permissions as permissions');
    return this.any
      .selectFrom(`${def.table} as m`)
      .innerJoin(`${def.targetTable} as t`, 't.id', `m.${def.column}`)
      .select(columns)
      .where('m.tenant_id', '=', tenantId)
      .where('m.user_id', '=', userId);
  }

  private memberQuery(def: MembershipDefinition, tenantId: string, targetId: string) {
    const columns = ['u.id as id', 'u.user_name as user_name', 'u.display_name as display_name', 'u.email as email', 'u.status as status', 'u.manager_id as manager_id'];
    if (def.permissions) columns.push('m.permissions as permissions');
    return this.any
      .selectFrom(`${def.table} as m`)
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(columns)
      .where('m.tenant_id', '=', tenantId)
      .where(`m.${def.column}`, '=', targetId);
  }
}

function toTarget(def: MembershipDefinition, row: Row): MembershipTarget {
  const target: MembershipTarget = { id: row.id as string, name: row.name as string };
  if (def.extra === 'weight') target.weight = Number(row.weight);
  if (def.extra === 'code') target.code = row.code as string;
  if (def.permissions) target.permissions = readPermissions(row.permissions);
  return target;
}

function readPermissions(value: unknown): EnvironmentPermission[] {
  return normalizePermissions(parseJson<EnvironmentPermission[]>(value, []));
}

/** A users row (or the summary columns of one) as a UserSummary; shared with the reports query. */
export function toSummary(row: Row, withPermissions = false): UserSummary {
  const summary: UserSummary = {
    id: row.id as string,
    userName: row.user_name as string,
    displayName: row.display_name as string,
    email: (row.email as string | null) ?? null,
    status: row.status as string,
    managerId: (row.manager_id as string | null) ?? null,
  };
  if (withPermissions) summary.permissions = readPermissions(row.permissions);
  if (row.depth !== undefined) summary.depth = Number(row.depth);
  return summary;
}
