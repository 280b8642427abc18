import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import type { User } from '../../src/domain/user.js';
import {
  USER_EVENT_FIELDS, USER_FIELD_NAMES, USER_FIELDS, USER_WRITABLE_FIELDS, type UserFieldDefinition, type UserFieldName,
} from '../../src/domain/user-fields.js';
import { USER_STATUS_INPUTS, USER_STATUSES } from '../../src/domain/user-lifecycle.js';
import { parseODataFilter } from '../../src/filter/odata-filter-parser.js';
import { presentUser } from '../../src/http/presenters/user-presenter.js';
import { CreateUserBody, PatchUserBody, ReplaceUserBody, UserSchema } from '../../src/http/schemas/user-schemas.js';
import { validatorCompiler } from '../../src/http/validation.js';
import { USER_FILTER_SCHEMA, USER_SORTABLE } from '../../src/repositories/user-query.js';
import { toRow, toUser, UserRepository } from '../../src/repositories/user-repository.js';
import type { SortDirection, SortTerm } from '../../src/domain/list-query.js';
import type { FilterNode } from '../../src/filter/filter-ast.js';
import { TenantRepository } from '../../src/repositories/tenant-repository.js';
import { buildUser } from '../../src/services/user-rules.js';

/*
 * USER_FIELDS is the one definition of the user: these tests check that every layer derived
 * from it agrees with it (schemas, presenter, row mapping, filter and sort whitelists, events).
 */

const fields = Object.entries(USER_FIELDS) as [UserFieldName, UserFieldDefinition][];
const TENANT = 'fields-test';

/** A user with every field set to a non-default value. */
const fullUser = (n: number): User => ({
  id: `0192f0c8-0000-7000-8000-${String(n).padStart(12, '0')}`,
  tenantId: TENANT,
  userName: `Ada.${n}@Example.com`,
  email: `Ada.${n}@Example.com`,
  givenName: 'Ada',
  familyName: `Lovelace ${n}`,
  displayName: 'Ada Lovelace',
  title: 'Analyst',
  department: 'R&D',
  employeeId: `E-${n}`,
  employmentType: 'employee',
  costCenter: 'CC-1',
  phone: '+44 20 0000 0000',
  country: 'GB',
  locale: 'en-GB',
  preferredLanguage: 'en',
  timezone: 'Europe/London',
  nickName: 'Ada',
  profileUrl: 'https://example.com/ada',
  organization: 'Analytical Engines',
  division: 'Research',
  managerId: null,
  positionId: null,
  areaId: null,
  preventDeprovision: true,
  identifications: [{ typeId: '0192f0c8-0000-7000-8000-0000000000ff', value: 'P123' }],
  externalIds: [{ origin: 'hr', key: `k${n}` }],
  attributes: { level: n, remote: true, nested: { a: [1, 2] } },
  profile: { emails: [{ value: `ada.${n}@example.com`, type: 'work', primary: true }] },
  tags: ['math', 'engines'],
  status: 'suspended',
  provisionedBy: 'entra',
  createdAt: `2026-01-0${n}T00:00:00.000Z`,
  updatedAt: `2026-02-0${n}T00:00:00.000Z`,
  lastLoginAt: `2026-03-0${n}T00:00:00.000Z`,
  version: n,
});

const bodyValidator = (schema: unknown) => validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '/test' }) as (value: unknown) => boolean;

describe('USER_FIELDS and the HTTP schemas', () => {
  it('responses list every field, and presentUser returns exactly those fields (no tenantId) valid against UserSchema', () => {
    expect(Object.keys(UserSchema.properties)).toEqual(expect.arrayContaining([...USER_FIELD_NAMES]));
    const user = fullUser(1);
    const json = presentUser(user);
    expect(Object.keys(json)).toEqual(USER_FIELD_NAMES);
    expect(json).not.toHaveProperty('tenantId');
    const { tenantId: _tenantId, ...fieldsOnly } = user;
    expect(json).toEqual(fieldsOnly);
    const validate = bodyValidator(UserSchema);
    expect(validate(json)).toBe(true);
    expect(validate({ ...json, status: 'inactive' })).toBe(false);
  });

  it('responses are nullable exactly where the registry says', () => {
    const validate = bodyValidator(UserSchema);
    const json = presentUser(fullUser(1));
    for (const [name, field] of fields) expect(validate({ ...json, [name]: null }), name).toBe(field.nullable);
  });

  it('create and patch bodies take exactly the writable fields; replace also takes back the server-owned ones', () => {
    expect(Object.keys(CreateUserBody.properties).sort()).toEqual([...USER_WRITABLE_FIELDS].sort());
    expect(Object.keys(PatchUserBody.properties).sort()).toEqual([...USER_WRITABLE_FIELDS].sort());
    expect(Object.keys(ReplaceUserBody.properties).sort()).toEqual([...USER_FIELD_NAMES].sort());
    for (const body of [CreateUserBody, ReplaceUserBody, PatchUserBody]) expect(body.required ?? []).toEqual([]);
  });

  it('create accepts null where the registry allows it; a merge patch accepts null for every writable field', () => {
    const create = bodyValidator(CreateUserBody);
    const patch = bodyValidator(PatchUserBody);
    for (const name of USER_WRITABLE_FIELDS) {
      const write = USER_FIELDS[name].write;
      expect(create({ userName: 'x', [name]: null }), name).toBe(write.nullOnCreate);
      expect(patch({ [name]: null }), name).toBe(true);
    }
  });

  it('a body with what GET returned is a valid replace', () => {
    expect(bodyValidator(ReplaceUserBody)(presentUser(fullUser(2)))).toBe(true);
  });

  it('status takes the lifecycle states and the alias on input; anything else is refused', () => {
    const create = bodyValidator(CreateUserBody);
    for (const status of USER_STATUS_INPUTS) expect(create({ userName: 'x', status }), status).toBe(true);
    expect(create({ userName: 'x', status: 'retired' })).toBe(false);
  });

  it('text limits come from the registry', () => {
    const create = bodyValidator(CreateUserBody);
    for (const [name, field] of fields) {
      if (field.type.kind !== 'text' || !field.write) continue;
      expect(create({ userName: 'x', [name]: 'a'.repeat(field.type.maxLength) }), name).toBe(true);
      expect(create({ userName: 'x', [name]: 'a'.repeat(field.type.maxLength + 1) }), name).toBe(false);
    }
  });
});

describe('USER_FIELDS and the write rules and events', () => {
  it('events diff writable fields only (the diff compares writable snapshots)', () => {
    expect(USER_WRITABLE_FIELDS).toEqual(expect.arrayContaining([...USER_EVENT_FIELDS]));
    for (const name of ['id', 'createdAt', 'updatedAt', 'lastLoginAt', 'version']) expect(USER_EVENT_FIELDS).not.toContain(name);
  });

  it('buildUser stores every writable field it is given but status, which only the lifecycle commands move', () => {
    const { id, tenantId, createdAt, version, lastLoginAt, provisionedBy, ...input } = fullUser(3);
    const built = buildUser({ id, tenantId, createdAt, version, lastLoginAt, provisionedBy, status: 'active' }, { ...input, status: 'suspended' }, '2026-04-01T00:00:00.000Z');
    for (const name of USER_WRITABLE_FIELDS) expect(built[name], name).toEqual(name === 'status' ? 'active' : input[name]);
  });

  it('an omitted writable field becomes what its whenAbsent says', () => {
    const base = { id: fullUser(1).id, tenantId: TENANT, createdAt: 'c', version: 1, lastLoginAt: null, provisionedBy: null, status: 'invited' as const };
    const built = buildUser(base, { email: 'a@b.c', givenName: 'A' }, 'n');
    const empty: Record<string, unknown> = { boolean: false, identifications: [], externalIds: [], tags: [], attributes: {}, profile: {} };
    const derived: Record<string, unknown> = { userName: 'a@b.c', displayName: 'A' };
    for (const name of USER_WRITABLE_FIELDS.filter((n) => n !== 'email' && n !== 'givenName')) {
      const field = USER_FIELDS[name];
      const expected = { null: null, empty: empty[field.type.kind], derived: derived[name], unchanged: base.status }[field.write.whenAbsent];
      expect(expected, name).not.toBeUndefined();
      expect(built[name], name).toEqual(expected);
    }
  });
});

describe('USER_FIELDS and the database', () => {
  let database: Database;
  let users: UserRepository;
  const emptied: User = { ...fullUser(3), email: null, lastLoginAt: null, preventDeprovision: false, attributes: {}, tags: [], externalIds: [] };
  const stored = [fullUser(1), fullUser(2), emptied];

  beforeAll(async () => {
    database = openDatabase('sqlite::memory:');
    await migrateToLatest(database.db as never, database.dialect);
    const at = '2026-01-01T00:00:00.000Z';
    await new TenantRepository(database.db).insert({ id: TENANT, name: 'Fields', createdAt: at, updatedAt: at });
    users = new UserRepository(database.db, database.dialect);
    for (const user of stored) await users.insert(user);
  });
  afterAll(async () => {
    await database?.close();
  });
  const list = (q: { filter?: FilterNode; sort?: SortTerm; cursor?: string | undefined; top?: number }) =>
    users.list(TENANT, { filter: q.filter, sort: q.sort ? [q.sort] : [], page: { size: q.top ?? 10, cursor: q.cursor }, count: false });

  it.each(['sqlite', 'postgres'] as const)('toRow then toUser gives back the same user (%s encoding)', (dialect) => {
    for (const user of stored) expect(toUser(toRow(user, dialect) as never)).toEqual(user);
  });

  it('toRow fills every column, with lowercased copies of userName and email', () => {
    const row = toRow(fullUser(1), 'sqlite') as Record<string, unknown>;
    for (const [, field] of fields) expect(row, field.column).toHaveProperty(field.column);
    expect(row).toMatchObject({ tenant_id: TENANT, user_name_lower: 'ada.1@example.com', email_lower: 'ada.1@example.com', prevent_deprovision: 1 });
  });

  it('a stored user reads back the same', async () => {
    for (const user of stored) expect(await users.findById(TENANT, user.id)).toEqual(user);
  });

  it('the filter whitelist holds exactly the filterable fields, plus the membership collections and the profile lists', () => {
    const filterable = fields.filter(([, f]) => f.filterable).map(([name]) => name);
    const names = Object.keys(USER_FILTER_SCHEMA.fields);
    expect(names).toEqual(expect.arrayContaining(filterable));
    for (const [name, field] of fields) if (!field.filterable) expect(names, name).not.toContain(name);
    const collections = names.filter((n) => !(USER_FIELD_NAMES as readonly string[]).includes(n));
    expect(collections.sort()).toEqual([
      'addresses', 'emails', 'entitlements', 'environments', 'groups', 'identities', 'ims', 'organizations', 'phoneNumbers', 'photos', 'profileRoles', 'roles', 'x509Certificates',
    ]);
  });

  /** A filter on each filterable scalar field that matches user 1 (by its own value), and one for each collection. */
  const filterFor = (name: UserFieldName, field: UserFieldDefinition): string => {
    const value = fullUser(1)[name];
    switch (field.type.kind) {
      case 'attributes':
        return 'attributes/level eq 1';
      case 'tags':
        return "tags/any(t: t eq 'math')";
      case 'externalIds':
        return "externalIds/any(e: e/origin eq 'hr' and e/key eq 'k1')";
      case 'boolean':
      case 'integer':
      case 'timestamp':
        return `${name} eq ${String(value)}`;
      default:
        return value === null ? `${name} eq null` : `${name} eq '${String(value)}'`;
    }
  };

  it.each(fields.filter(([, f]) => f.filterable))('$filter on %s runs against the users table', async (name, field) => {
    const expression = filterFor(name, field);
    const page = await list({ filter: parseODataFilter(expression) });
    expect(page.items.map((u) => u.id), expression).toContain(fullUser(1).id);
  });

  it('userName and email compare case-insensitively through their lowercased copies', async () => {
    for (const name of fields.filter(([, f]) => f.lowerColumn).map(([n]) => n)) {
      const page = await list({ filter: parseODataFilter(`${name} eq 'ADA.2@EXAMPLE.COM'`) });
      expect(page.items.map((u) => u.id), name).toEqual([fullUser(2).id]);
    }
  });

  it('the sort whitelist holds exactly the sortable fields, and each pages with a keyset cursor', async () => {
    expect(Object.keys(USER_SORTABLE).sort()).toEqual(fields.filter(([, f]) => f.sortable).map(([n]) => n).sort());
    for (const name of Object.keys(USER_SORTABLE)) {
      for (const direction of ['asc', 'desc']) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await list({ sort: { field: name, direction: direction as SortDirection }, cursor, top: 1 });
          seen.push(...page.items.map((u) => u.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
        expect(seen.sort(), `${name} ${direction}`).toEqual(stored.map((u) => u.id).sort());
      }
    }
  });

  it('responses and filters know the lifecycle states only', () => {
    const status = USER_FILTER_SCHEMA.fields.status as { enumValues?: readonly string[] };
    expect(status.enumValues).toEqual(USER_STATUSES);
  });
});
