import { sql } from 'kysely';
import { DIRECTORY, type DirectoryDefinition } from '../domain/directory.js';
import { USER_STATUSES } from '../domain/user.js';
import type { CollectionField, FieldType, FilterSchema, ScalarField } from '../filter/filter-schema.js';
import type { SortableField } from '../filter/sort-keys.js';

/** The JSON column behind `attributes/<name>` (attribute-index-repository indexes expressions on it). */
export const USER_ATTRIBUTES_COLUMN = 'users.attributes';

/**
 * The whitelist of what `$filter` and `$orderby` may touch on users, and the column behind each
 * public name. Nothing outside these maps can reach SQL. userName and email compare through
 * their lowercased copies, so case-insensitive lookups use the plain (tenant_id, x_lower) indexes.
 * Directory names (groups, roles, …) compare through their name_lower / code_lower copies too.
 *
 * This is the schema without attribute definitions (`attributes/<name>` takes its type from the
 * literal); `userFilterSchema` adds a tenant's declared types.
 */
export const USER_FILTER_SCHEMA: FilterSchema = {
  fields: {
    id: { column: 'users.id', type: 'uuid' },
    userName: { column: 'users.user_name_lower', type: 'string', caseInsensitive: true },
    email: { column: 'users.email_lower', type: 'string', caseInsensitive: true },
    givenName: { column: 'users.given_name', type: 'string' },
    familyName: { column: 'users.family_name', type: 'string' },
    displayName: { column: 'users.display_name', type: 'string' },
    title: { column: 'users.title', type: 'string' },
    department: { column: 'users.department', type: 'string' },
    employeeId: { column: 'users.employee_id', type: 'string' },
    employmentType: { column: 'users.employment_type', type: 'string' },
    costCenter: { column: 'users.cost_center', type: 'string' },
    phone: { column: 'users.phone', type: 'string' },
    country: { column: 'users.country', type: 'string' },
    locale: { column: 'users.locale', type: 'string' },
    managerId: { column: 'users.manager_id', type: 'uuid' },
    positionId: { column: 'users.position_id', type: 'uuid' },
    areaId: { column: 'users.area_id', type: 'uuid' },
    preventDeprovision: { column: 'users.prevent_deprovision', type: 'boolean' },
    status: { column: 'users.status', type: 'enum', enumValues: USER_STATUSES },
    createdAt: { column: 'users.created_at', type: 'datetime' },
    updatedAt: { column: 'users.updated_at', type: 'datetime' },
    lastLoginAt: { column: 'users.last_login_at', type: 'datetime' },
    attributes: { kind: 'jsonObject', column: USER_ATTRIBUTES_COLUMN },
    tags: { kind: 'jsonArray', column: 'users.tags', elementType: 'string' },
    externalIds: {
      kind: 'collection',
      source: sql`user_external_ids as e`,
      correlate: sql`e.user_id = users.id`,
      fields: { origin: { column: 'e.origin', type: 'string' }, key: { column: 'e.key', type: 'string' } },
    },
    // Memberships: EXISTS over the membership table joined to the directory table; the user
    // side leads each membership's primary key, so the probe per user is an index lookup.
    groups: membershipCollection(DIRECTORY.group),
    roles: membershipCollection(DIRECTORY.role, ['weight']),
    organizations: membershipCollection(DIRECTORY.organization, ['code']),
    environments: membershipCollection(DIRECTORY.environment),
    identities: {
      kind: 'collection',
      source: sql`user_identities as f_ui`,
      correlate: sql`f_ui.user_id = users.id`,
      fields: {
        id: { column: 'f_ui.id', type: 'uuid' },
        providerId: { column: 'f_ui.provider_id', type: 'uuid' },
        subject: { column: 'f_ui.subject', type: 'string' },
        userName: { column: 'f_ui.user_name', type: 'string' },
      },
    },
  },
};

/**
 * `<kind>/any(x: x/name eq '…')` over a user's memberships of one directory kind: id and name,
 * plus `extra` fields of the kind (text compared case-insensitively through its lowercased
 * column, integers as numbers). Tables and columns come from DIRECTORY, never from input.
 */
function membershipCollection(def: DirectoryDefinition, extra: readonly string[] = []): CollectionField {
  const membership = def.membership;
  if (!membership) throw new Error(`${def.kind} has no memberships`);
  const fields: Record<string, ScalarField> = {
    id: { column: `f_m.${membership.column}`, type: 'uuid' },
    name: { column: 'f_t.name_lower', type: 'string', caseInsensitive: true },
  };
  for (const name of extra) {
    const field = def.fields[name];
    if (!field) throw new Error(`${def.kind} has no field ${name}`);
    fields[name] = field.lowerColumn
      ? { column: `f_t.${field.lowerColumn}`, type: 'string', caseInsensitive: true }
      : { column: `f_t.${field.column}`, type: field.type === 'integer' ? 'number' : 'string' };
  }
  return {
    kind: 'collection',
    source: sql`${sql.table(membership.table)} as f_m join ${sql.table(def.table)} as f_t on f_t.id = ${sql.ref(`f_m.${membership.column}`)}`,
    correlate: sql`f_m.user_id = users.id`,
    fields,
  };
}

/**
 * The users filter schema for a tenant: `attributes/<name>` compares with the declared type of
 * each defined attribute (number → numeric, boolean, date/enum/string → text), and infers the
 * type from the literal for keys without a definition.
 */
export function userFilterSchema(attributeTypes: ReadonlyMap<string, FieldType> | undefined): FilterSchema {
  if (!attributeTypes || attributeTypes.size === 0) return USER_FILTER_SCHEMA;
  return {
    fields: {
      ...USER_FILTER_SCHEMA.fields,
      attributes: { kind: 'jsonObject', column: USER_ATTRIBUTES_COLUMN, resolveType: (name) => attributeTypes.get(name) },
    },
  };
}

export const USER_SORTABLE: Record<string, SortableField> = {
  userName: { column: 'users.user_name_lower', type: 'string', nullable: false },
  email: { column: 'users.email_lower', type: 'string' },
  givenName: { column: 'users.given_name', type: 'string' },
  familyName: { column: 'users.family_name', type: 'string' },
  displayName: { column: 'users.display_name', type: 'string', nullable: false },
  title: { column: 'users.title', type: 'string' },
  department: { column: 'users.department', type: 'string' },
  employeeId: { column: 'users.employee_id', type: 'string' },
  country: { column: 'users.country', type: 'string' },
  status: { column: 'users.status', type: 'string', nullable: false },
  createdAt: { column: 'users.created_at', type: 'datetime', nullable: false },
  updatedAt: { column: 'users.updated_at', type: 'datetime', nullable: false },
  lastLoginAt: { column: 'users.last_login_at', type: 'datetime' },
};
