import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/list-query.js';
import { unstorableText } from '../domain/storable-values.js';
import { AppError, type FieldError } from '../errors/app-error.js';
import { pageSizeOf } from './page-size.js';

/**
 * Opaque cursors of the lists paged in id order (tenants, clients, API tokens, jobs, members,
 * reports): the services page by "after this id", and this adapter wraps that position with the
 * query it continues, like the filterable lists' cursors (filter/list-cursor.ts). A cursor
 * carries the list it belongs to, the page size and the list's other parameters, so
 * `?cursor=` alone continues the same query; a parameter sent with a cursor must equal the
 * cursor's, and an altered cursor or one of another list is a 400 request.invalid_cursor naming
 * `cursor` (and the parameter that differs).
 */

const FORMAT = 1;
const TOKEN = /^[A-Za-z0-9_-]+$/;
/** The query schemas allow 512 characters; a cursor is far below that. */
const MAX_TOKEN = 512;
const MAX_TEXT = 256;

/** The page-size parameters of an id-ordered list (`limit` is the deprecated alias of `$top`). */
export interface IdPageParams {
  $top?: number | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** The query an id-ordered page reads: its size, the id it starts after, the bound parameters. */
export interface IdPageQuery<P extends Record<string, string | undefined>> {
  resource: string;
  size: number;
  after: string | undefined;
  params: P;
}

interface Payload {
  r: string;
  n: number;
  p: Record<string, string>;
  i: string;
}

const invalid = (why: string, other?: FieldError): AppError => {
  const message = `${why} Pass the nextCursor of the previous page unchanged.`;
  const errors: FieldError[] = [{ field: 'cursor', message }];
  if (other) errors.push(other);
  return new AppError('request.invalid_cursor', `${other ? `cursor (${other.field})` : 'cursor'}: ${message}`, errors);
};

const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT && unstorableText(v) === undefined;

function decode(token: string): Payload {
  if (token.length > MAX_TOKEN || !TOKEN.test(token)) throw invalid('The cursor is not valid.');
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('The cursor is not valid.');
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw invalid('The cursor is not valid.');
  const { v, r, n, p, i, ...rest } = c as Record<string, unknown>;
  const paramsOk = typeof p === 'object' && p !== null && !Array.isArray(p) && Object.keys(p).length <= 8 && Object.values(p).every(text);
  const sizeOk = typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_PAGE_SIZE;
  if (v !== FORMAT || Object.keys(rest).length > 0 || !text(r) || !sizeOk || !paramsOk || !text(i)) throw invalid('The cursor is not valid.');
  return { r, n: n as number, p: p as Record<string, string>, i };
}

/**
 * Reads the page request of an id-ordered list. `params` are the list's other parameters as
 * sent (undefined: not sent) and path ids the list depends on (always sent), so a cursor of one
 * group's members is refused by another group's. Without a cursor the page size defaults to 50.
 */
export function idPageQuery<P extends Record<string, string | undefined>>(resource: string, query: IdPageParams, params: P): IdPageQuery<P> {
  const sentSize = pageSizeOf(query);
  if (query.cursor === undefined) return { resource, size: sentSize ?? DEFAULT_PAGE_SIZE, after: undefined, params };
  const cursor = decode(query.cursor);
  if (cursor.r !== resource) throw invalid('The cursor belongs to another list.');
  if (sentSize !== undefined && sentSize !== cursor.n) {
    const name = query.$top !== undefined ? '$top' : 'limit';
    throw invalid(`The cursor was issued for another page size (${cursor.n}); send the same ${name}, or leave it out to continue the cursor's query.`, {
      field: name, message: 'differs from the cursor',
    });
  }
  const bound: Record<string, string | undefined> = {};
  for (const name of new Set([...Object.keys(params), ...Object.keys(cursor.p)])) {
    if (!Object.hasOwn(params, name)) throw invalid('The cursor is not valid.');
    const sent = params[name];
    const theirs = Object.hasOwn(cursor.p, name) ? cursor.p[name] : undefined;
    if (sent !== undefined && sent !== theirs) {
      throw invalid(`The cursor was issued for another ${name}; send the same ${name}, or leave it out to continue the cursor's query.`, {
        field: name, message: 'differs from the cursor',
      });
    }
    bound[name] = theirs;
  }
  return { resource, size: cursor.n, after: cursor.i, params: bound as P };
}

/**
 * One page of an id-ordered list from `size + 1` rows read after `query.after`: the first
 * `size` presented, and a cursor after the last of them when there was a row more.
 */
export function idPage<T extends { id: string }, R>(query: IdPageQuery<Record<string, string | undefined>>, rows: T[], present: (row: T) => R) {
  const items = rows.slice(0, query.size);
  const last = items.at(-1);
  return { items: items.map(present), nextCursor: rows.length > query.size && last ? encodeIdCursor(query, last.id) : null };
}

/** The cursor after `lastId`: the list, its page size and its parameters, as base64url JSON. */
export function encodeIdCursor(query: IdPageQuery<Record<string, string | undefined>>, lastId: string): string {
  const p: Record<string, string> = {};
  for (const [name, value] of Object.entries(query.params)) if (value !== undefined) p[name] = value;
  return Buffer.from(JSON.stringify({ v: FORMAT, r: query.resource, n: query.size, p, i: lastId }), 'utf8').toString('base64url');
}

/**
 * The position a page starts after, for lists paged by a 1-based row position (a plan's items,
 * a bulk job's results) rather than by id: 0 without a cursor; 400 request.invalid_cursor for a
 * position that is not a whole number.
 */
export function positionAfter(query: IdPageQuery<Record<string, string | undefined>>): number {
  if (query.after === undefined) return 0;
  const position = Number(query.after);
  if (!Number.isSafeInteger(position) || position < 0) throw invalid('The cursor is not valid.');
  return position;
}
