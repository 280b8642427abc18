import type { SortTerm } from '../domain/list-query.js';
import { odataError, quote } from './filter-errors.js';
import { MAX_SORT_KEYS } from './sort-keys.js';

const MAX_LENGTH = 512;
const TERM = /^([A-Za-z_][A-Za-z0-9_/]*)(?:\s+([A-Za-z]+))?$/;

const orderByError = (message: string) => odataError('sort', message);

/**
 * Parses OData `$orderby`, e.g. "familyName desc, givenName", into sort terms (syntax only:
 * the repository resolves the names against its whitelist). Absent or blank yields [].
 */
export function parseODataOrderBy(input: string | undefined): SortTerm[] {
  if (input === undefined || input.trim() === '') return [];
  if (input.length > MAX_LENGTH) throw orderByError(`$orderby is ${input.length} characters long; the maximum is ${MAX_LENGTH}.`);
  const terms = input.split(',');
  if (terms.length > MAX_SORT_KEYS) throw orderByError(`$orderby may name at most ${MAX_SORT_KEYS} fields; it names ${terms.length}.`);
  return terms.map((raw, index) => {
    const term = raw.trim();
    if (term === '') throw orderByError(`Sort term ${index + 1} of $orderby is empty; separate fields with single commas, e.g. familyName desc,givenName.`);
    const match = TERM.exec(term);
    if (!match) throw orderByError(`Cannot read sort term ${quote(term)}; write a field name optionally followed by asc or desc, e.g. familyName desc.`);
    const field = match[1] as string;
    const direction = (match[2] ?? 'asc').toLowerCase();
    if (direction !== 'asc' && direction !== 'desc') {
      throw orderByError(`Unknown sort direction ${quote(match[2] ?? '')} after ${quote(field)}; use asc or desc.`);
    }
    return { field, direction };
  });
}
