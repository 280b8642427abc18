import type { SortDirection, SortTerm } from '../domain/list-query.js';
import { allowedHint, queryError, quote } from './filter-errors.js';
import type { FieldType } from './filter-schema.js';

export type { SortDirection } from '../domain/list-query.js';

/** A field a resource can be sorted by: the whitelist entry behind a public name. */
export interface SortableField {
  /** Qualified column, e.g. 'users.family_name'. */
  column: string;
  type: FieldType;
  /** Set false for NOT NULL columns: the keyset predicate then skips its NULL branches. */
  nullable?: boolean;
}

/** A sort term resolved against the whitelist: what the ORDER BY and the keyset predicate need. */
export interface SortKey {
  /** The public name, e.g. 'familyName'. */
  field: string;
  column: string;
  type: FieldType;
  direction: SortDirection;
  /** Unless false, the keyset predicate allows for NULLs (which sort last). */
  nullable?: boolean;
}

export const MAX_SORT_KEYS = 5;

const sortError = (message: string) => queryError('sort', message);

/**
 * Resolves sort terms against a resource's sortable fields. An empty list yields `defaults`
 * (a default naming an unsortable field is a programming error, not a bad request). The id
 * tie-breaker is not a sort key: the keyset code always appends it.
 * Errors (part 'sort'): an unknown field, a repeated field, more than MAX_SORT_KEYS terms.
 */
export function resolveSort(terms: readonly SortTerm[], sortable: Record<string, SortableField>, defaults: readonly SortTerm[] = []): SortKey[] {
  if (terms.length === 0) {
    return defaults.map((term) => {
      const field = Object.hasOwn(sortable, term.field) ? sortable[term.field] : undefined;
      if (!field) throw new Error(`Default sort field '${term.field}' is not in the sortable map`);
      return toKey(term.field, field, term.direction);
    });
  }
  if (terms.length > MAX_SORT_KEYS) throw sortError(`Sort by at most ${MAX_SORT_KEYS} fields; this sorts by ${terms.length}.`);
  const seen = new Set<string>();
  return terms.map(({ field: name, direction }) => {
    const field = Object.hasOwn(sortable, name) ? sortable[name] : undefined;
    if (!field) throw sortError(`Cannot sort by ${quote(name)}. ${allowedHint(name, Object.keys(sortable))}`);
    if (direction !== 'asc' && direction !== 'desc') throw sortError(`Unknown sort direction ${quote(String(direction))} for ${quote(name)}; use asc or desc.`);
    if (seen.has(name)) throw sortError(`${quote(name)} appears more than once in the sort order.`);
    seen.add(name);
    return toKey(name, field, direction);
  });
}

function toKey(name: string, field: SortableField, direction: SortDirection): SortKey {
  return { field: name, column: field.column, type: field.type, direction, nullable: field.nullable !== false };
}
