import type { FilterNode } from '../filter/filter-ast.js';

/**
 * A list request in no particular query language: the OData adapter (`$filter`, `$orderby`,
 * `$select`, `$top`, `$skip`) and SCIM (`filter`, `sortBy`, `attributes`, `count`) both parse
 * into this, and services and repositories only ever see this shape.
 */
export interface ListQuery {
  /** The rows to return; undefined means all of them. Paths are resolved by the repository's whitelist. */
  filter?: FilterNode | undefined;
  /** Sort keys, most significant first; the id is always the final tie-breaker. Empty: by id. */
  sort: SortTerm[];
  page: PageRequest;
  /** Public field names to return (id always is); undefined means every field. */
  select?: string[] | undefined;
  /** Whether to also count every matching row. */
  count: boolean;
  /**
   * Text comparisons ignore case on every field (SCIM: attributes are caseExact false), not only
   * on identifiers kept with a lowered copy. Fields without one compare lower()ed, unindexed.
   */
  ignoreCase?: boolean;
}

export type SortDirection = 'asc' | 'desc';

export interface SortTerm {
  /** The public field name, e.g. 'familyName'. */
  field: string;
  direction: SortDirection;
}

export interface PageRequest {
  /** Rows per page, 1..MAX_PAGE_SIZE. */
  size: number;
  /**
   * The opaque nextCursor of the previous page (keyset paging). It is bound to the whole query:
   * filter, sort, select and size must equal the ones it was issued for.
   */
  cursor?: string | undefined;
  /** Rows to skip (offset paging); not allowed together with a cursor. */
  offset?: number | undefined;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
