import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB, UserTable } from '../db/schema.js';
import { parseJson, toJson } from '../db/json-columns.js';
import type { ExternalId, User } from '../domain/user.js';
import { firstTaken, insertValues } from './insert-values.js';
import { identifierKey } from '../domain/identifier-key.js';
import { USER_FIELDS, type UserFieldDefinition, type UserFieldName, type UserValueKind } from '../domain/user-fields.js';
import { compileFieldMapper } from '../lib/field-mapper.js';
import { fromDbBool, toDbBool } from '../db/booleans.js';
import type { JsonKeyType } from '../filter/filter-schema.js';
import type { ListQuery } from '../domain/list-query.js';
import { fetchPage, type PageOf } from './keyset-page.js';
import { USER_SORTABLE, userFilterSchema } from './user-query.js';
import type { Page, UserSummary } from '../domain/membership.js';
import { toSummary } from './membership-repository.js';
import { namingValues, takenError } from '../db/constraint-errors.js';
import type { AppError } from '../errors/app-error.js';

export interface UserListQuery extends ListQuery {
  /** Declared types of the tenant's attributes, for `attributes/<name>` in the filter. */
  attributeTypes?: ReadonlyMap<string, JsonKeyType> | undefined;
}

export type UserListResult = PageOf<User>;

/** Rows per multi-row insert: far below either database's parameter limit at ~40 columns. */
const INSERT_CHUNK = 200;
/** Ids per `IN (…)` list: far below SQLite's 32,766 bound parameters. */
const IN_CHUNK = 1000;

export class UserRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  /** One page of users (keyset paging: see keyset-page.ts). */
  async list(tenantId: string, q: UserListQuery): Promise<UserListResult> {
    const schema = { filter: userFilterSchema(q.attributeTypes, q.ignoreCase), sortable: USER_SORTABLE };
    return fetchPage(this.db as never, this.dialect, 'users', tenantId, schema, q, (row) => toUser(row as unknown as Selectable<UserTable>));
  }

  async findById(tenantId: string, id: string): Promise<User | undefined> {
    // SQL text: the most frequent read of all, and building it cost more than running it.
    const { rows } = await sql<Selectable<UserTable>>`select * from users where id = ${id} and tenant_id = ${tenantId}`.execute(this.db);
    const row = rows[0];
    return row && toUser(row);
  }

  /**
   * The user, locked for the rest of the transaction on PostgreSQL, so a read-check-write on one
   * user runs one writer at a time: concurrent PATCHes queue instead of failing, and of 16
   * concurrent DELETEs exactly one finds the user. SQLite has one writer anyway.
   *
   * `intent` picks the lock PostgreSQL itself takes for that statement: an update keeps the key
   * (FOR NO KEY UPDATE), so rows that merely reference this user (a report naming it as manager,
   * a membership) can still be written meanwhile, and two users naming each other as manager do
   * not deadlock on each other's row; a delete takes FOR UPDATE, which also waits for them.
   */
  async findByIdForUpdate(tenantId: string, id: string, intent: 'update' | 'delete' = 'update'): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .where('tenant_id', '=', tenantId)
      .$if(this.dialect === 'postgres', (q) => (intent === 'delete' ? q.forUpdate() : q.forNoKeyUpdate()))
      .executeTakeFirst();
    return row && toUser(row);
  }

  /**
   * A new version for users whose related data changed (memberships): their ETag moves, so a
   * cache or a later If-Match sees the change. Returns how many users were touched.
   */
  async bumpVersions(tenantId: string, ids: readonly string[], updatedAt: string): Promise<number> {
    const sorted = [...new Set(ids)].sort();
    let updated = 0;
    // In chunks: the members of a large group are more ids than one statement may bind.
    for (let i = 0; i < sorted.length; i += IN_CHUNK) {
      const result = await this.db
        .updateTable('users')
        .set((eb) => ({ version: eb('version', '+', 1), updated_at: updatedAt }))
        .where('tenant_id', '=', tenantId)
        .where('id', 'in', sorted.slice(i, i + IN_CHUNK))
        .executeTakeFirst();
      updated += Number(result.numUpdatedRows);
    }
    return updated;
  }

  /**
   * Stores a password hash (argon2id PHC string). Returns whether the user had one before, or
   * undefined when there is no such user in the tenant. Locks the row like any user write. The
   * hash is not part of the representation, so neither version nor updatedAt moves.
   */
  async setPasswordHash(tenantId: string, id: string, hash: string): Promise<boolean | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select('password_hash')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .$if(this.dialect === 'postgres', (q) => q.forNoKeyUpdate())
      .executeTakeFirst();
    if (!row) return undefined;
    await this.db.updateTable('users').set({ password_hash: hash }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
    return row.password_hash !== null;
  }

  /**
   * Which of `ids` are users of the tenant, with the SCIM origin that provisioned each (null when
   * none): one query per 500 ids.
   */
  async provisionedByOf(tenantId: string, ids: readonly string[]): Promise<Map<string, string | null>> {
    const found = new Map<string, string | null>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.db
        .selectFrom('users')
        .select(['id', 'provisioned_by'])
        .where('tenant_id', '=', tenantId)
        .where('id', 'in', unique.slice(i, i + 500))
        .execute();
      for (const row of rows) found.set(row.id, row.provisioned_by);
    }
    return found;
  }

  async findByUserName(tenantId: string, userName: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('user_name_lower', '=', identifierKey(userName))
      .executeTakeFirst();
    return row && toUser(row);
  }

  async findByExternalId(tenantId: string, origin: string, key: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('user_external_ids as e')
      .innerJoin('users', 'users.id', 'e.user_id')
      .selectAll('users')
      .where('e.tenant_id', '=', tenantId)
      .where('e.origin', '=', identifierKey(origin))
      .where('e.key', '=', identifierKey(key))
      .executeTakeFirst();
    return row && toUser(row);
  }

  /**
   * The users holding external ids of one origin, by the comparison form of their key
   * (`identifierKey`): one query per 500 keys. With `lock` the rows are held as for an update
   * (FOR NO KEY UPDATE on PostgreSQL), taken in user id order so that two bulk writers touching
   * the same users lock them in the same order.
   */
  async findByExternalKeys(tenantId: string, origin: string, keys: readonly string[], lock = false): Promise<Map<string, User>> {
    const found = new Map<string, User>();
    const wanted = [...new Set(keys.map((k) => identifierKey(k)))];
    for (let i = 0; i < wanted.length; i += 500) {
      const rows = await this.db
        .selectFrom('user_external_ids as e')
        .innerJoin('users', 'users.id', 'e.user_id')
        .selectAll('users')
        .select('e.key as external_key')
        .where('e.tenant_id', '=', tenantId)
        .where('e.origin', '=', identifierKey(origin))
        .where('e.key', 'in', wanted.slice(i, i + 500))
        .orderBy('users.id')
        .$if(lock && this.dialect === 'postgres', (q) => q.forNoKeyUpdate('users'))
        .execute();
      for (const row of rows) found.set(row.external_key, toUser(row));
    }
    return found;
  }

  /**
   * Sets a user's userName and external ids as given, touching nothing else (not even the
   * version). Only for dry runs, inside a transaction that is rolled back: it replays what an
   * earlier chunk of the same dry run wrote, so a later chunk meets the same unique values.
   */
  async replayIdentifiers(tenantId: string, id: string, userName: string, externalIds: ExternalId[]): Promise<void> {
    await this.db.updateTable('users').set({ user_name: userName, user_name_lower: identifierKey(userName) }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
    await this.db.deleteFrom('user_external_ids').where('user_id', '=', id).execute();
    await this.insertExternalIds(tenantId, id, externalIds);
  }

  /** Ids of the users named by userName (keys in comparison form): one query per 500 names. */
  async idsByUserNames(tenantId: string, userNames: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const wanted = [...new Set(userNames.map((n) => identifierKey(n)))];
    for (let i = 0; i < wanted.length; i += 500) {
      const rows = await this.db.selectFrom('users').select(['id', 'user_name_lower']).where('tenant_id', '=', tenantId).where('user_name_lower', 'in', wanted.slice(i, i + 500)).execute();
      for (const row of rows) found.set(row.user_name_lower, row.id);
    }
    return found;
  }

  /**
   * Ids of the users holding the external ids `{origin, key}`, by `origin\u0000key` in
   * comparison form; one query per origin and 500 keys.
   */
  async idsByExternalIds(tenantId: string, pairs: readonly ExternalId[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const byOrigin = new Map<string, Set<string>>();
    for (const p of pairs) {
      const origin = identifierKey(p.origin);
      const keys = byOrigin.get(origin) ?? new Set<string>();
      keys.add(identifierKey(p.key));
      byOrigin.set(origin, keys);
    }
    for (const [origin, keySet] of byOrigin) {
      const keys = [...keySet];
      for (let i = 0; i < keys.length; i += 500) {
        const rows = await this.db
          .selectFrom('user_external_ids')
          .select(['key', 'user_id'])
          .where('tenant_id', '=', tenantId)
          .where('origin', '=', origin)
          .where('key', 'in', keys.slice(i, i + 500))
          .execute();
        for (const row of rows) found.set(`${origin}\u0000${row.key}`, row.user_id);
      }
    }
    return found;
  }

  /**
   * Whether the user is in the tenant. With `lock` (a write is about to reference the user) the
   * row is held FOR KEY SHARE until the transaction ends on PostgreSQL: a concurrent delete of
   * the user waits for the write, or the write sees it gone (never a reference to a deleted row).
   */
  async exists(tenantId: string, id: string, lock = false): Promise<boolean> {
    const row = await this.db
      .selectFrom('users')
      .select('id')
      .where('id', '=', id)
      .where('tenant_id', '=', tenantId)
      .$if(lock && this.dialect === 'postgres', (q) => q.forKeyShare())
      .executeTakeFirst();
    return row !== undefined;
  }

  /** A taken userName or external id is a 409 naming the field and the value as sent (constraint-errors.ts). */
  async insert(user: User): Promise<void> {
    await insertValues(this.db, this.dialect, 'users', [toRow(user, this.dialect)]).catch(namingValues(user));
    await this.insertExternalIds(user.tenantId, user.id, user.externalIds);
  }

  /**
   * Inserts many users of one tenant in a few statements (200 rows each) with their external id
   * lookups. A user whose userName another user holds, or one of whose external ids another user
   * holds, is not stored (`ON CONFLICT DO NOTHING`, then its row is removed again): such rows
   * come back in `taken`, by user id, with the 409 naming what was taken, and never fail the statement or, on
   * PostgreSQL, the transaction. The caller has removed duplicates within `users`.
   */
  async insertMany(users: readonly User[]): Promise<{ taken: Map<string, AppError> }> {
    const taken = new Map<string, AppError>();
    const stored: User[] = [];
    for (let i = 0; i < users.length; i += INSERT_CHUNK) {
      const chunk = users.slice(i, i + INSERT_CHUNK);
      const rows = await insertValues(this.db, this.dialect, 'users', chunk.map((u) => toRow(u, this.dialect)), { skipTaken: { returning: ['id'] } });
      const inserted = new Set(rows.map((r) => r.id as string));
      for (const user of chunk) {
        if (inserted.has(user.id)) stored.push(user);
        else taken.set(user.id, takenError('user.username_taken', 'Another user in this tenant', 'userName', user.userName));
      }
    }
    const wanted = stored.flatMap((user) => user.externalIds.map((e, index) => ({ tenant_id: user.tenantId, origin: identifierKey(e.origin), key: identifierKey(e.key), user_id: user.id, index })));
    const removed = new Set<string>();
    const byId = new Map(stored.map((u) => [u.id, u]));
    for (let i = 0; i < wanted.length; i += INSERT_CHUNK * 2) {
      const chunk = wanted.slice(i, i + INSERT_CHUNK * 2);
      const rows = await insertValues(this.db, this.dialect, 'user_external_ids', chunk.map(({ index: _index, ...row }) => row), { skipTaken: { returning: ['origin', 'key'] } });
      const inserted = new Set(rows.map((r) => `${r.origin as string}\u0000${r.key as string}`));
      for (const entry of chunk) {
        if (inserted.has(`${entry.origin}\u0000${entry.key}`) || removed.has(entry.user_id)) continue;
        const user = byId.get(entry.user_id) as User;
        taken.set(entry.user_id, takenError('user.external_id_taken', 'Another user in this tenant', 'externalIds', user.externalIds[entry.index], entry.index));
        removed.add(entry.user_id);
      }
    }
    for (const id of removed) await this.db.deleteFrom('users').where('id', '=', id).execute(); // its lookups go by cascade
    return { taken };
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
      .executeTakeFirst()
      .catch(namingValues(user));
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

  /**
   * The lookup rows of a user's external ids. A taken one is skipped by the insert (not an error
   * that would abort the transaction on PostgreSQL), so the 409 names that entry as sent
   * (`/body/externalIds/<i>`), also when a concurrent request took it a moment ago.
   */
  private async insertExternalIds(tenantId: string, userId: string, externalIds: ExternalId[]): Promise<void> {
    if (externalIds.length === 0) return;
    const keys = externalIds.map((e) => ({ origin: identifierKey(e.origin), key: identifierKey(e.key) }));
    const rows = keys.map((k) => ({ tenant_id: tenantId, ...k, user_id: userId }));
    const inserted = await insertValues(this.db, this.dialect, 'user_external_ids', rows, { skipTaken: { returning: ['origin', 'key'] } });
    const index = firstTaken(keys, inserted);
    if (index !== undefined) throw takenError('user.external_id_taken', 'Another user in this tenant', 'externalIds', externalIds[index], index);
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

/*
 * The mapping between a users row and a User, derived from USER_FIELDS: one column per field
 * (plus the lowercased copy of userName and email), decoded and encoded by the codec of the
 * field's kind. Compiled once per direction (and per dialect for writes): see field-mapper.ts.
 */

type Fields = typeof USER_FIELDS;
// Compile-time: every column a field names exists in the users table…
USER_FIELDS satisfies Record<UserFieldName, { column: keyof UserTable; lowerColumn?: keyof UserTable }>;
// …and every column of the table is some field's (or tenant_id): a new column cannot be left unmapped.
type LowerColumn<F> = F extends { lowerColumn: string } ? F['lowerColumn'] : never;
/** password_hash is read and written only by the password methods: it is never part of a User. */
type MappedColumn = 'tenant_id' | 'password_hash' | { [K in UserFieldName]: Fields[K]['column'] | LowerColumn<Fields[K]> }[UserFieldName];
const allColumnsMapped: [Exclude<keyof UserTable, MappedColumn>] extends [never] ? true : false = true;
void allColumnsMapped;

const jsonOr = (empty: () => unknown) => (value: unknown) => parseJson(value, empty());
const emptyList = () => [];

/** How a kind is read back: SQLite returns JSON as text and booleans as 0/1, PostgreSQL parsed values. */
const DECODERS: Partial<Record<UserValueKind, (value: unknown) => unknown>> = {
  boolean: fromDbBool,
  identifications: jsonOr(emptyList),
  externalIds: jsonOr(emptyList),
  tags: jsonOr(emptyList),
  attributes: jsonOr(() => ({})),
  profile: jsonOr(() => ({})),
};

/** How a kind is written (booleans differ per dialect). */
const encoders = (dialect: Dialect): Partial<Record<UserValueKind, (value: unknown) => unknown>> => ({
  boolean: (value) => toDbBool(dialect, value as boolean),
  identifications: toJson,
  externalIds: toJson,
  tags: toJson,
  attributes: toJson,
  profile: toJson,
});

/** The comparison copy of an identifier (RFC 8265 mapping, domain/identifier-key.ts). */
const lowercase = (value: unknown) => (value === null ? null : identifierKey(value as string));
const fieldEntries = Object.entries(USER_FIELDS) as [UserFieldName, UserFieldDefinition][];

/** A users row (as selected) to a User. */
export const toUser: (row: Selectable<UserTable>) => User = compileFieldMapper([
  { to: 'tenantId', from: 'tenant_id' },
  ...fieldEntries.map(([name, field]) => ({ to: name, from: field.column, convert: DECODERS[field.type.kind] })),
]);

const rowMapper = (dialect: Dialect) => {
  const encode = encoders(dialect);
  return compileFieldMapper<User, Insertable<UserTable>>([
    { to: 'tenant_id', from: 'tenantId' },
    ...fieldEntries.flatMap(([name, field]) => [
      { to: field.column, from: name, convert: encode[field.type.kind] },
      ...(field.lowerColumn ? [{ to: field.lowerColumn, from: name, convert: lowercase }] : []),
    ]),
  ]);
};
const ROW_MAPPERS: Record<Dialect, (user: User) => Insertable<UserTable>> = { sqlite: rowMapper('sqlite'), postgres: rowMapper('postgres') };

/** A User to the users row that stores it, for `dialect`. */
export const toRow = (user: User, dialect: Dialect): Insertable<UserTable> => ROW_MAPPERS[dialect](user);
