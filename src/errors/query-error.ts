import { AppError } from './app-error.js';
import type { ErrorCode } from './error-codes.js';

/**
 * The parts of a list query, named without any query language (`size` and `offset` are the page
 * request's). An adapter maps each to its own parameter: OData `$filter`, `$orderby`, `$select`,
 * `$expand`, `cursor`, `$top`, `$skip`; SCIM `filter`, `sortBy`, `attributes`, `cursor`, `count`,
 * `startIndex`.
 */
export type QueryPart = 'filter' | 'sort' | 'select' | 'expand' | 'cursor' | 'size' | 'offset';

/** Each part keeps the public error code it has always had (codes are never renamed). */
const CODE: Record<QueryPart, ErrorCode> = {
  filter: 'request.invalid_filter',
  sort: 'request.invalid_orderby',
  select: 'request.invalid_select',
  expand: 'request.invalid_expand',
  cursor: 'request.invalid_cursor',
  size: 'request.invalid_paging',
  offset: 'request.invalid_paging',
};

/**
 * A problem with one part of a list query. The message names the problem, not a parameter;
 * the HTTP error handler adds the parameter name of the route's query language to
 * `errors[].field`. `parameter` is set only by a language's own parser (which knows what the
 * client typed); `conflictsWith` names a second part, e.g. the filter a cursor does not match.
 */
export class QueryError extends AppError {
  constructor(
    readonly part: QueryPart,
    message: string,
    readonly options: { parameter?: string; conflictsWith?: QueryPart } = {},
  ) {
    // A parser that knows its parameter fills `errors` itself; otherwise the adapter does.
    super(CODE[part], message, options.parameter ? [{ field: options.parameter, message }] : undefined);
    this.name = 'QueryError';
  }
}
