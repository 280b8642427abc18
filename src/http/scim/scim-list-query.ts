import type { FilterNode } from '../../filter/filter-ast.js';
import type { ListQuery, SortTerm } from '../../domain/list-query.js';
import { parseScimFilter } from '../../filter/scim-filter-parser.js';
import { parseScimPath } from '../../filter/scim-path-parser.js';
import { toFilterNode, type ScimAttributeResolver } from '../../filter/scim-filter-converter.js';
import { ScimFilterError } from '../../filter/scim-filter-errors.js';
import type { ScimResourceModel } from './scim-attributes.js';
import { listResponse } from './scim-context.js';
import { scimFail } from './scim-document.js';
import { checkFilterValues } from './scim-filter-values.js';
import { SCIM_LIMITS } from './scim-schema-definitions.js';

/**
 * A SCIM list request (GET with query parameters, or a POST /.search body, RFC 7644 §3.4.2–3.4.3)
 * → the protocol-neutral ListQuery. Paging (RFC 7644 §3.4.2.4, RFC 9865):
 * - `startIndex` (1-based) and `count`: index paging, the default. `count=0` asks for
 *   `totalResults` only; a `startIndex` below 1 reads as 1, a negative `count` as 0, a `count`
 *   above the maximum page size as the maximum.
 * - `cursor` (empty for the first page) and `count`: cursor paging over a keyset, so a walk
 *   neither misses nor repeats a resource while others are added or deleted.
 * - neither: unpaged. At most `filter.maxResults` resources; more is a 400 tooMany.
 * The order is stable: `sortBy` (ascending unless `sortOrder=descending`), then id.
 */
export interface ScimListParams {
  filter?: string | undefined;
  sortBy?: string | undefined;
  sortOrder?: string | undefined;
  startIndex?: unknown;
  count?: unknown;
  cursor?: string | undefined;
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
}

export interface ScimListPlan {
  query: ListQuery;
  mode: 'index' | 'cursor' | 'unpaged';
  startIndex: number;
  /** `count=0`: only totalResults. */
  countOnly: boolean;
}

/** How a resource type answers filters and sorting. */
export interface ScimListResource {
  /** The resource's attributes: filter values are checked against their types in SCIM terms. */
  model: ScimResourceModel;
  resolve: ScimAttributeResolver;
  /** Rewrites the mapped tree (origins, booleans that are states…). */
  rewrite?: (node: FilterNode) => FilterNode;
  /** The sortable field a `sortBy` attribute names, or undefined when it cannot be sorted on. */
  sortField: (attribute: string) => string | undefined;
  /** Always applied: a credential limited to what it provisioned. */
  scope?: FilterNode | undefined;
}

export function scimListQuery(params: ScimListParams, resource: ScimListResource): ScimListPlan {
  let filter = params.filter !== undefined && params.filter.trim() !== '' ? parseFilter(params.filter, resource) : undefined;
  if (resource.scope) filter = filter ? { kind: 'and', left: resource.scope, right: filter } : resource.scope;
  const sort: SortTerm[] = [];
  if (params.sortBy !== undefined && params.sortBy.trim() !== '') {
    const field = sortFieldOf(params.sortBy.trim(), resource);
    const order = params.sortOrder?.trim().toLowerCase();
    if (order !== undefined && order !== '' && order !== 'ascending' && order !== 'descending') {
      scimFail('scim.invalid_value', `sortOrder must be "ascending" or "descending", not ${JSON.stringify(params.sortOrder)}.`);
    }
    sort.push({ field, direction: order === 'descending' ? 'desc' : 'asc' });
  }
  const countParam = integer(params.count, 'count');
  const startParam = integer(params.startIndex, 'startIndex');
  const cursorMode = params.cursor !== undefined;
  if (cursorMode && startParam !== undefined) scimFail('scim.invalid_value', 'Send either cursor or startIndex, not both (RFC 9865).');
  const mode: ScimListPlan['mode'] = cursorMode ? 'cursor' : countParam !== undefined || startParam !== undefined ? 'index' : 'unpaged';
  const count = countParam === undefined ? (mode === 'unpaged' ? SCIM_LIMITS.filterMaxResults : SCIM_LIMITS.defaultPageSize) : Math.min(Math.max(countParam, 0), SCIM_LIMITS.maxPageSize);
  const startIndex = Math.max(startParam ?? 1, 1);
  const cursor = cursorMode && params.cursor !== '' ? params.cursor : undefined;
  const query: ListQuery = {
    filter,
    sort,
    page: { size: Math.max(count, 1), ...(cursor !== undefined ? { cursor } : {}), ...(mode === 'index' && startIndex > 1 ? { offset: startIndex - 1 } : {}) },
    // totalResults is REQUIRED in every ListResponse (RFC 7644 §3.4.2), but a page that shows
    // the end of the results tells it without a COUNT (see totalOf).
    count: count === 0,
    // SCIM attributes are caseExact false (RFC 7643 §2.2): eq "brown" finds "Brown".
    ignoreCase: true,
  };
  return { query, mode, startIndex, countOnly: count === 0 };
}

function parseFilter(text: string, resource: ScimListResource): FilterNode {
  const tree = parseScimFilter(text);
  checkFilterValues(resource.model, tree);
  const node = toFilterNode(tree, resource.resolve);
  return resource.rewrite ? resource.rewrite(node) : node;
}

function sortFieldOf(text: string, resource: ScimListResource): string {
  let path;
  try {
    path = parseScimPath(text);
  } catch (error) {
    if (error instanceof ScimFilterError) scimFail('scim.invalid_value', `sortBy: ${error.message}`);
    throw error;
  }
  const resolved = path.valueFilter === undefined ? resource.resolve(path) : undefined;
  const field = Array.isArray(resolved) && resolved.length === 1 ? resource.sortField(resolved[0] as string) : undefined;
  if (field === undefined) scimFail('scim.invalid_value', `sortBy: Roster cannot sort by "${text.slice(0, 120)}".`);
  return field;
}

/** A SCIM integer parameter: a JSON number or a string of digits (query parameters are text). */
function integer(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d{1,15}\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number)) scimFail('scim.invalid_value', `${name} must be an integer, not ${JSON.stringify(value).slice(0, 60)}.`);
  return number;
}

/**
 * totalResults of a page fetched without a count: when the page reaches the end (no next
 * cursor) and starts within the results, it is the offset plus what the page holds; otherwise
 * `count` is asked (one COUNT over the same filter). Saves a query on every `userName eq` lookup.
 */
export async function totalOf(plan: ScimListPlan, page: { items: unknown[]; nextCursor: string | null; count?: number }, count: () => Promise<number>): Promise<number> {
  if (page.count !== undefined) return page.count;
  const offset = plan.query.page.offset ?? 0;
  if (page.nextCursor === null && plan.mode !== 'cursor' && (page.items.length > 0 || offset === 0)) return offset + page.items.length;
  return count();
}

/**
 * Runs a planned list and answers it as a ListResponse: `fetch` reads a page (and, asked for
 * `count`, the total), `present` shows a page's resources (batching what they need). An unpaged
 * request over `filter.maxResults` resources is a 400 tooMany naming `noun`.
 */
export async function answerList<T>(
  plan: ScimListPlan,
  noun: string,
  fetch: (query: ListQuery) => Promise<{ items: T[]; nextCursor: string | null; previousCursor?: string | null; count?: number }>,
  present: (items: T[]) => Promise<unknown[]>,
): Promise<Record<string, unknown>> {
  const page = await fetch(plan.query);
  const total = await totalOf(plan, page, async () => (await fetch({ ...plan.query, page: { size: 1 }, count: true })).count ?? 0);
  if (plan.mode === 'unpaged' && total > SCIM_LIMITS.filterMaxResults) {
    scimFail('scim.too_many', `${total} ${noun} match; at most ${SCIM_LIMITS.filterMaxResults} are returned without paging. Send count and startIndex (or cursor), or a narrower filter.`);
  }
  const resources = await present(plan.countOnly ? [] : page.items);
  const paging = plan.mode === 'cursor' ? (plan.countOnly ? {} : { nextCursor: page.nextCursor, previousCursor: page.previousCursor }) : { startIndex: plan.startIndex };
  return listResponse(resources, total, paging);
}
