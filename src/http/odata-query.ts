import { DEFAULT_PAGE_SIZE, type ListQuery } from '../domain/list-query.js';
import type { QueryPart } from '../errors/query-error.js';
import { parseSelect } from '../filter/expand-parser.js';
import { ODATA_PARAMETERS } from '../filter/filter-errors.js';
import { bindToCursor } from '../filter/list-cursor.js';
import { parseODataFilter } from '../filter/odata-filter-parser.js';
import { parseODataOrderBy } from '../filter/orderby-parser.js';

/** The OData query options of a list route, as validated by its querystring schema. */
export interface ODataListParams {
  $filter?: string | undefined;
  $orderby?: string | undefined;
  $select?: string | undefined;
  $top?: number | undefined;
  $skip?: number | undefined;
  $count?: boolean | undefined;
  cursor?: string | undefined;
}

/**
 * Route config for routes that speak OData: the error handler names each query part's OData
 * parameter in `errors[].field` (`$filter`, `$orderby`, `$select`, `$expand`, `cursor`, `$top`, `$skip`).
 */
export const ODATA_QUERY: { queryParameters: Readonly<Record<QueryPart, string>> } = { queryParameters: ODATA_PARAMETERS };

/**
 * Parses a list route's OData options into a ListQuery (OData v4 §5.1: $filter, $orderby,
 * $select, $top, $skip, $count). With `cursor`, each of $filter, $orderby, $select and $top
 * that is sent must equal the cursor's (a 400 otherwise) and each that is not sent comes from
 * the cursor, so `?cursor=<nextCursor>` alone continues the same query. `selectable` lists what
 * $select may name; routes without $select leave it out.
 */
export function odataListQuery(params: ODataListParams, selectable?: readonly string[]): ListQuery {
  const filterText = params.$filter?.trim();
  const query: ListQuery = {
    filter: filterText ? parseODataFilter(params.$filter as string) : undefined,
    sort: parseODataOrderBy(params.$orderby),
    select: selectable ? parseSelect(params.$select, selectable) : undefined,
    page: { size: params.$top ?? DEFAULT_PAGE_SIZE, cursor: params.cursor, offset: params.$skip },
    count: params.$count ?? false,
  };
  // A route without $select always lists every field, so its cursors must too.
  const sent = {
    filter: params.$filter !== undefined,
    sort: params.$orderby !== undefined,
    select: !selectable || params.$select !== undefined,
    size: params.$top !== undefined,
  };
  return bindToCursor(query, { sent, ...(selectable ? { selectable } : {}) }).query;
}
