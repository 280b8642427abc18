import { allowedHint, queryOptionError, quote } from './filter-errors.js';
import type { FieldType } from './filter-schema.js';

export type SortDirection = 'asc' | 'desc';

export interface SortableField {
  /** Qualified column, e.g. 'users.family_name'. */
  column: string;
  type: FieldType;
  /** Set false for NOT NULL columns: the keyset predicate then skips its NULL branches. */
  nullable?: boolean;
}

export interface SortKey {
  /** The public name, as written in $orderby. */
  field: string;
  column: string;
  type: FieldType;
  direction: SortDirection;
  /** Unless false, the keyset predicate allows for NULLs (which sort last). */
  nullable?: boolean;
}

export interface OrderByTerm {
  field: string;
  direction?: SortDirection;
}

export const MAX_SORT_KEYS = 5;
const MAX_LENGTH = 512;
const TERM = /^([A-Za-z_][A-Za-z0-9_/]*)(?:\s+([A-Za-z]+))?$/;

const orderByError = (message: string) => queryOptionError('request.invalid_orderby', message);

/**
 * Parses `$orderby`, e.g. "familyName desc, givenName". An absent or blank value yields the
 * defaults. The id tie-breaker is not a sort key: the keyset code always appends it.
 */
export function parseOrderBy(
  input: string | undefined,
  sortable: Record<string, SortableField>,
  defaults: readonly OrderByTerm[] = [],
): SortKey[] {
  if (input === undefined || input.trim() === '') {
    return defaults.map((term) => {
      const field = sortable[term.field];
      // A default naming an unsortable field is a programming error, not a bad request.
      if (!field) throw new Error(`Default sort field '${term.field}' is not in the sortable map`);
      return toKey(term.field, field, term.direction ?? 'asc');
    });
  }
  if (input.length > MAX_LENGTH) throw orderByError(`$orderby is ${input.length} characters long; the maximum is ${MAX_LENGTH}.`);
  const terms = input.split(',');
  if (terms.length > MAX_SORT_KEYS) throw orderByError(`$orderby may name at most ${MAX_SORT_KEYS} fields; it names ${terms.length}.`);
  const allowed = Object.keys(sortable);
  const seen = new Set<string>();
  return terms.map((raw, index) => {
    const term = raw.trim();
    if (term === '') throw orderByError(`Sort term ${index + 1} of $orderby is empty; separate fields with single commas, e.g. familyName desc,givenName.`);
    const match = TERM.exec(term);
    if (!match) throw orderByError(`Cannot read sort term ${quote(term)}; write a field name optionally followed by asc or desc, e.g. familyName desc.`);
    const name = match[1] as string;
    const direction = (match[2] ?? 'asc').toLowerCase();
    if (direction !== 'asc' && direction !== 'desc') {
      throw orderByError(`Unknown sort direction ${quote(match[2] ?? '')} after ${quote(name)}; use asc or desc.`);
    }
    const field = Object.hasOwn(sortable, name) ? sortable[name] : undefined;
    if (!field) throw orderByError(`Cannot sort by ${quote(name)}. ${allowedHint(name, allowed)}`);
    if (seen.has(name)) throw orderByError(`${quote(name)} appears more than once in $orderby.`);
    seen.add(name);
    return toKey(name, field, direction);
  });
}

function toKey(name: string, field: SortableField, direction: SortDirection): SortKey {
  return { field: name, column: field.column, type: field.type, direction, nullable: field.nullable !== false };
}
