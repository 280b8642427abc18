import { sql } from 'kysely';
import type { DirectoryDefinition, DirectoryField } from '../domain/directory.js';
import type { FilterField, FilterSchema } from '../filter/filter-schema.js';
import type { SortableField } from '../filter/sort-keys.js';

/**
 * What `$filter` and `$orderby` may touch on a directory kind, derived from its definition, so a
 * new field is filterable the moment it is declared. Built once per kind.
 */
const cache = new Map<string, { filter: FilterSchema; sortable: Record<string, SortableField> }>();

export function directoryQuerySchema(def: DirectoryDefinition): { filter: FilterSchema; sortable: Record<string, SortableField> } {
  const cached = cache.get(def.kind);
  if (cached) return cached;
  const t = def.table;
  const fields: Record<string, FilterField> = { id: { column: `${t}.id`, type: 'uuid' } };
  const sortable: Record<string, SortableField> = {};
  for (const [name, f] of Object.entries(def.fields)) {
    const column = `${t}.${f.lowerColumn ?? f.column}`;
    switch (f.type) {
      case 'string':
        fields[name] = { column, type: 'string', ...(f.lowerColumn ? { caseInsensitive: true } : {}) };
        sortable[name] = { column, type: 'string', nullable: !f.required };
        break;
      case 'enum':
        fields[name] = { column, type: 'enum', enumValues: f.enumValues ?? [] };
        sortable[name] = { column, type: 'string', nullable: !f.required };
        break;
      case 'integer':
        fields[name] = { column, type: 'number' };
        sortable[name] = { column, type: 'number', nullable: false };
        break;
      case 'boolean':
        fields[name] = { column, type: 'boolean' };
        break;
      case 'reference':
        fields[name] = { column, type: 'uuid' };
        break;
      case 'stringArray':
        fields[name] = { kind: 'jsonArray', column, elementType: 'string' };
        break;
      case 'externalIds': {
        const collection = externalIdsCollection(t, f);
        if (collection) fields[name] = collection;
        break;
      }
      default:
        break;
    }
  }
  // Kinds users are members of: `members/any(m: m/id eq '…')` over the membership table (and
  // the member's provisionedBy, which a SCIM credential limited to its own users is held to).
  if (def.membership) {
    fields.members = {
      kind: 'collection',
      source: sql`${sql.table(def.membership.table)} as f_mem join users as f_mu on f_mu.id = f_mem.user_id`,
      correlate: sql`${sql.ref(`f_mem.${def.membership.column}`)} = ${sql.ref(`${t}.id`)}`,
      fields: { id: { column: 'f_mem.user_id', type: 'uuid' }, provisionedBy: { column: 'f_mu.provisioned_by', type: 'string' } },
    };
  }
  fields.createdAt = { column: `${t}.created_at`, type: 'datetime' };
  fields.updatedAt = { column: `${t}.updated_at`, type: 'datetime' };
  sortable.createdAt = { column: `${t}.created_at`, type: 'datetime', nullable: false };
  sortable.updatedAt = { column: `${t}.updated_at`, type: 'datetime', nullable: false };
  const schema = { filter: { fields }, sortable };
  cache.set(def.kind, schema);
  return schema;
}

/**
 * `externalIds/any(e: e/origin eq … and e/key eq …)` over the kind's lookup table, as for users.
 * The table holds each {origin, key} in its comparison form (domain/identifier-key.ts), so the
 * literals are mapped the same way and the (tenant, origin, key) key serves the lookup.
 */
function externalIdsCollection(table: string, f: DirectoryField): FilterField | undefined {
  if (!f.lookupTable) return undefined;
  const { table: lookup, ownerColumn } = f.lookupTable;
  return {
    kind: 'collection',
    source: sql`${sql.table(lookup)} as f_ext`,
    correlate: sql`${sql.ref(`f_ext.${ownerColumn}`)} = ${sql.ref(`${table}.id`)}`,
    fields: { origin: { column: 'f_ext.origin', type: 'string', caseInsensitive: true }, key: { column: 'f_ext.key', type: 'string', caseInsensitive: true } },
  };
}
