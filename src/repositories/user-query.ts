import { sql } from 'kysely';
import { DIRECTORY, type DirectoryDefinition } from '../domain/directory.js';
import { USER_FIELDS, type UserFieldDefinition, type UserFieldName, type UserValueKind } from '../domain/user-fields.js';
import { USER_STATUS_ALIASES, USER_STATUSES } from '../domain/user-lifecycle.js';
import type { CollectionField, FieldType, FilterField, FilterSchema, JsonKeyType, JsonObjectArrayField, ScalarField } from '../filter/filter-schema.js';
import type { SortableField } from '../filter/sort-keys.js';

/** The JSON column behind `attributes/<name>` (attribute-index-repository indexes expressions on it). */
export const USER_ATTRIBUTES_COLUMN = `users.${USER_FIELDS.attributes.column}`;

const fieldEntries = Object.entries(USER_FIELDS) as [UserFieldName, UserFieldDefinition][];
const column = (name: string) => `users.${name}`;

/** The filter type of each scalar kind; the collection kinds are mapped in `registryFilterField`. */
const SCALAR_FILTER_TYPES: Partial<Record<UserValueKind, FieldType>> = {
  text: 'string',
  email: 'string',
  uuid: 'uuid',
  boolean: 'boolean',
  status: 'enum',
  timestamp: 'datetime',
  integer: 'number',
};

/**
 * How `$filter` reaches a registry field: scalars compare their column (or the lowercased copy,
 * with lowercased literals); attributes are `attributes/<name>`, tags `tags/any(t: t eq …)`, and
 * externalIds `externalIds/any(e: e/origin eq … and e/key eq …)` over user_external_ids.
 */
function registryFilterField(field: UserFieldDefinition): FilterField {
  switch (field.type.kind) {
    case 'attributes':
      return { kind: 'jsonObject', column: USER_ATTRIBUTES_COLUMN };
    case 'tags':
      return { kind: 'jsonArray', column: column(field.column), elementType: 'string' };
    case 'externalIds':
      return {
        kind: 'collection',
        source: sql`user_external_ids as e`,
        correlate: sql`e.user_id = users.id`,
        // Stored in their comparison form (domain/identifier-key.ts), so literals are mapped the same way.
        fields: { origin: { column: 'e.origin', type: 'string', caseInsensitive: true }, key: { column: 'e.key', type: 'string', caseInsensitive: true } },
      };
    default: {
      const type = SCALAR_FILTER_TYPES[field.type.kind];
      if (!type) throw new Error(`No filter for a ${field.type.kind} field`);
      if (field.lowerColumn) return { column: column(field.lowerColumn), type, caseInsensitive: true };
      return { column: column(field.column), type, ...(type === 'enum' ? { enumValues: USER_STATUSES, enumAliases: USER_STATUS_ALIASES } : {}) };
    }
  }
}

/**
 * The whitelist of what `$filter` and `$orderby` may touch on users, and the column behind each
 * public name. Nothing outside these maps can reach SQL. The user's own fields come from
 * USER_FIELDS (`filterable`, `sortable`); userName and email compare through their lowercased
 * copies, so case-insensitive lookups use the plain (tenant_id, x_lower) indexes. Memberships and
 * identity links are collections over their tables; directory names (groups, roles, …) compare
 * through their name_lower / code_lower copies too.
 *
 * This is the schema without attribute definitions (`attributes/<name>` takes its type from the
 * literal); `userFilterSchema` adds a tenant's declared types.
 */
export const USER_FILTER_SCHEMA: FilterSchema = {
  fields: {
    ...Object.fromEntries(fieldEntries.filter(([, field]) => field.filterable).map(([name, field]) => [name, registryFilterField(field)])),
    // Memberships: EXISTS over the membership table joined to the directory table; the user
    // side leads each membership's primary key, so the probe per user is an index lookup.
    groups: membershipCollection(DIRECTORY.group, ['provisionedBy']),
    roles: membershipCollection(DIRECTORY.role, ['weight']),
    organizations: membershipCollection(DIRECTORY.organization, ['code']),
    environments: membershipCollection(DIRECTORY.environment),
    // The lists kept in `profile` (SCIM emails, phoneNumbers…): EXISTS over the JSON array.
    emails: profileList('emails'),
    phoneNumbers: profileList('phoneNumbers'),
    ims: profileList('ims'),
    photos: profileList('photos'),
    entitlements: profileList('entitlements'),
    profileRoles: profileList('roles'),
    x509Certificates: profileList('x509Certificates', { value: { type: 'string' } }),
    addresses: profileList('addresses', {
      ...Object.fromEntries(['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country'].map((k) => [k, { type: 'string', caseInsensitive: true } as const])),
      type: { type: 'string', caseInsensitive: true },
      primary: { type: 'boolean' },
    }),
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
 * A multi-valued SCIM attribute kept in the user's `profile` (a JSON array of objects under
 * `key`): `emails/any(e: e/type eq 'work' and e/value eq 'a@x.com')`. Text compares ignoring
 * ASCII case (SCIM caseExact false), alike on both databases (filter-operands.ts).
 */
function profileList(key: string, fields?: JsonObjectArrayField['fields']): JsonObjectArrayField {
  const text = { type: 'string', caseInsensitive: true } as const;
  return {
    kind: 'jsonObjectArray',
    column: `users.${USER_FIELDS.profile.column}`,
    key,
    fields: fields ?? { value: text, display: text, type: text, primary: { type: 'boolean' } },
  };
}

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
export function userFilterSchema(attributeTypes: ReadonlyMap<string, JsonKeyType> | undefined, ignoreCase = false): FilterSchema {
  if (ignoreCase) return USER_FILTER_SCHEMA_IGNORING_CASE;
  if (!attributeTypes || attributeTypes.size === 0) return USER_FILTER_SCHEMA;
  return {
    fields: {
      ...USER_FILTER_SCHEMA.fields,
      attributes: { kind: 'jsonObject', column: USER_ATTRIBUTES_COLUMN, resolveType: (name) => attributeTypes.get(name) },
    },
  };
}

/** The schema with every text field compared ignoring (ASCII) case: what SCIM filters use (caseExact false). */
const USER_FILTER_SCHEMA_IGNORING_CASE: FilterSchema = {
  fields: {
    ...Object.fromEntries(
      Object.entries(USER_FILTER_SCHEMA.fields).map(([name, field]) => [
        name,
        (field.kind === undefined || field.kind === 'column') && field.type === 'string' && !field.caseInsensitive ? { ...field, asciiFolded: true } : field,
      ]),
    ),
    // The manager as a collection of at most one user, so a SCIM credential limited to the users
    // it provisioned tests the manager only among those (http/scim/scim-filter-scope.ts).
    managerUser: {
      kind: 'collection',
      source: sql`users as f_mgr`,
      correlate: sql`f_mgr.id = users.manager_id`,
      fields: { id: { column: 'f_mgr.id', type: 'uuid' }, provisionedBy: { column: 'f_mgr.provisioned_by', type: 'string' } },
    },
  },
};

/**
 * What `$orderby` may name: the sortable registry fields, through the lowercased copy where there
 * is one (so userName sorts case-insensitively). Status sorts as its stored text. NOT NULL
 * columns are marked so the keyset predicate skips its NULL branches.
 */
export const USER_SORTABLE: Record<string, SortableField> = Object.fromEntries(
  fieldEntries
    .filter(([, field]) => field.sortable)
    .map(([name, field]): [string, SortableField] => {
      const type = SCALAR_FILTER_TYPES[field.type.kind];
      if (!type) throw new Error(`Cannot sort by the ${field.type.kind} field ${name}`);
      const sortable: SortableField = { column: column(field.lowerColumn ?? field.column), type: type === 'enum' ? 'string' : type };
      return [name, field.nullable ? sortable : { ...sortable, nullable: false }];
    }),
);
