import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { MAX_PAGE_SIZE, type ListQuery, type SortTerm } from '../domain/list-query.js';
import type { QueryPart } from '../errors/query-error.js';
import { QueryError } from '../errors/query-error.js';
import { unstorableText } from '../domain/storable-values.js';
import { stableStringify } from '../lib/stable-json.js';
import type { FilterNode } from './filter-ast.js';
import { validateFilterTree } from './filter-validator.js';
import type { CursorPosition } from './keyset-cursor.js';
import { MAX_SORT_KEYS } from './sort-keys.js';

/** Base64url characters; a cursor carrying a large filter stays well under this. */
export const MAX_CURSOR_LENGTH = 8192;
/** Inflating beyond this is refused, so a small hostile cursor cannot expand into megabytes. */
const MAX_CURSOR_JSON = 64 * 1024;
const FORMAT = 1;
const TOKEN = /^[A-Za-z0-9_-]+$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_/]{0,127}$/;
const MAX_SELECT = 200;

/** The query a cursor was issued for: it continues only that query. */
export interface CursorQuery {
  filter: FilterNode | undefined;
  sort: SortTerm[];
  select: string[] | undefined;
  size: number;
}

export interface DecodedCursor {
  /** What was listed (e.g. the table), so a cursor of one list is refused by another. */
  resource: string;
  query: CursorQuery;
  position: CursorPosition;
  /** A previousCursor: the page that ends just before `position` (RFC 9865). */
  before: boolean;
}

/** The parts of a query a cursor is bound to. */
export type BoundPart = 'filter' | 'sort' | 'select' | 'size';
export const ALL_PARTS_SENT: Readonly<Record<BoundPart, boolean>> = { filter: true, sort: true, select: true, size: true };

const PARTS: readonly { part: BoundPart; error: QueryPart; label: string }[] = [
  { part: 'filter', error: 'filter', label: 'filter' },
  { part: 'sort', error: 'sort', label: 'sort order' },
  { part: 'select', error: 'select', label: 'field selection' },
  { part: 'size', error: 'size', label: 'page size' },
];

const invalid = (why = 'The cursor is not valid.') => new QueryError('cursor', `${why} Pass the nextCursor of the previous page unchanged.`);

/**
 * The nextCursor of a page: the whole query (filter as its tree, sort terms, selected fields,
 * page size) and the position after the page's last row, as JSON → deflate-raw → base64url.
 * With `before`, a previousCursor: the position of the page's first row, read backwards.
 * It is opaque to clients and checked in full when it comes back (decodeListCursor).
 */
export function encodeListCursor(resource: string, query: ListQuery, position: CursorPosition, before = false): string {
  const payload = {
    v: FORMAT,
    r: resource,
    f: query.filter ?? null,
    s: query.sort.map((t) => [t.field, t.direction]),
    l: query.select ?? null,
    n: query.page.size,
    k: position.values,
    i: position.id,
    // A previousCursor (the page before the position); absent for a nextCursor.
    ...(before ? { b: 1 } : {}),
  };
  return deflateRawSync(Buffer.from(JSON.stringify(payload), 'utf8')).toString('base64url');
}

/**
 * Reads a cursor back, treating it as untrusted: size limits before and after inflating, every
 * property checked, unknown ones refused, the filter validated as a tree (validateFilterTree).
 * The compiler's whitelist still decides which fields the filter may touch, and keysetPredicate
 * checks the position's values against the sort keys. Throws QueryError('cursor').
 */
export function decodeListCursor(token: string): DecodedCursor {
  if (token.length > MAX_CURSOR_LENGTH) throw invalid(`The cursor is longer than ${MAX_CURSOR_LENGTH} characters.`);
  if (!TOKEN.test(token)) throw invalid();
  let payload: unknown;
  try {
    payload = JSON.parse(inflateRawSync(Buffer.from(token, 'base64url'), { maxOutputLength: MAX_CURSOR_JSON }).toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!isRecord(payload) || payload.v !== FORMAT) throw invalid();
  const { r, f, s, l, n, k, i, b } = payload;
  if (Object.keys(payload).length !== (b === undefined ? 8 : 9) || (b !== undefined && b !== 1) || typeof r !== 'string' || r.length > 64) throw invalid();
  if (!Array.isArray(s) || s.length > MAX_SORT_KEYS || !s.every(isSortPair)) throw invalid();
  if (l !== null && !(Array.isArray(l) && l.length > 0 && l.length <= MAX_SELECT && l.every((x) => typeof x === 'string' && NAME.test(x)))) throw invalid();
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) throw invalid();
  if (!Array.isArray(k) || k.length !== s.length || !k.every(isPositionValue)) throw invalid();
  if (typeof i !== 'string' || i === '' || i.length > 200 || unstorableText(i) !== undefined) throw invalid();
  const filter = f === null ? undefined : validateFilterTree(f, 'cursor');
  return {
    resource: r,
    query: { filter, sort: s.map(([field, direction]) => ({ field, direction })), select: l === null ? undefined : (l as string[]), size: n },
    position: { values: k, id: i },
    before: b === 1,
  };
}

/**
 * Binds a query to its cursor. Each part the caller sent (filter, sort, select, size) must equal
 * the cursor's, compared in canonical form, so the same filter written with other spacing is
 * the same query; each part not sent is taken from the cursor, so the cursor alone continues
 * the query. Without a cursor the query is returned as it is.
 * Errors: QueryError('offset') for a cursor with an offset; QueryError('cursor') for a bad
 * cursor, one of another resource (when `resource` is given), or a sent part that differs
 * (`conflictsWith` names that part).
 */
export function bindToCursor(
  query: ListQuery,
  options: { resource?: string; sent?: Readonly<Record<BoundPart, boolean>>; selectable?: readonly string[] } = {},
): { query: ListQuery; position?: CursorPosition; before?: boolean } {
  const token = query.page.cursor;
  if (token === undefined) return { query };
  if ((query.page.offset ?? 0) > 0) throw new QueryError('offset', 'Use either a cursor or an offset, not both: a cursor already marks the position.');
  const cursor = decodeListCursor(token);
  if (options.resource !== undefined && cursor.resource !== options.resource) throw invalid('The cursor belongs to another list.');
  if (cursor.query.select && options.selectable && !cursor.query.select.every((f) => options.selectable?.includes(f))) throw invalid();
  const sent = options.sent ?? ALL_PARTS_SENT;
  const mine: CursorQuery = { filter: query.filter, sort: query.sort, select: query.select, size: query.page.size };
  for (const { part, error, label } of PARTS) {
    if (sent[part] && canonical(part, mine) !== canonical(part, cursor.query)) {
      const message = `The cursor was issued for another ${label}. Send the same ${label} as before, or leave it out to continue the cursor's query.`;
      throw new QueryError('cursor', message, { conflictsWith: error });
    }
  }
  const bound: ListQuery = {
    ...query,
    filter: cursor.query.filter,
    sort: cursor.query.sort,
    select: cursor.query.select,
    page: { ...query.page, size: cursor.query.size },
  };
  return { query: bound, position: cursor.position, before: cursor.before };
}

function canonical(part: BoundPart, q: CursorQuery): string {
  switch (part) {
    case 'filter':
      return stableStringify(q.filter ?? null);
    case 'sort':
      return JSON.stringify(q.sort.map((t) => [t.field, t.direction]));
    case 'select':
      // A selection is a set: the order fields are listed in does not change the query.
      return JSON.stringify(q.select ? [...new Set(q.select)].sort() : null);
    case 'size':
      return String(q.size);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A position value; text must be storable (a cursor never passed the HTTP edge's text check). */
const isPositionValue = (value: unknown): boolean => isScalar(value) && (typeof value !== 'string' || unstorableText(value) === undefined);

const isSortPair = (value: unknown): value is [string, 'asc' | 'desc'] =>
  Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && NAME.test(value[0]) && (value[1] === 'asc' || value[1] === 'desc');

const isScalar = (value: unknown): value is string | number | boolean | null =>
  value === null || (typeof value === 'string' && value.length <= 4096) || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
