import { AppError } from '../errors/app-error.js';
import { EVENT_CATALOGUE, type EventType, type EventTypeDefinition } from '../domain/event-catalogue.js';
import type { DomainEvent } from '../domain/event.js';
import type { Principal } from '../domain/principal.js';
import type { Store } from '../repositories/store.js';

/**
 * A page of events. `nextCursor` continues in this page's direction (null when nothing more is
 * there now); `prevCursor` reads the other side of its first event (for a newest-first page: the
 * events newer than it, oldest first, which is how a change feed polls). Pass either as `cursor`.
 */
export interface EventPage {
  items: DomainEvent[];
  nextCursor: string | null;
  prevCursor: string;
}

export interface EventListQuery {
  /** Page size (default 50); a cursor carries the size of the page it came from. */
  limit?: number | undefined;
  /** A nextCursor or prevCursor of an earlier page. */
  cursor?: string | undefined;
  /** Events below this position, newest first. */
  before?: number | undefined;
  /** Events above this position, oldest first (the change-feed direction). */
  after?: number | undefined;
  type?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
}

type Range = { order: 'desc'; before?: number | undefined } | { order: 'asc'; after: number };

const DEFAULT_LIMIT = 50;

/** What a cursor carries besides its position: the whole query it continues. */
interface CursorQuery {
  limit: number;
  type?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
}

/**
 * Cursors are opaque to clients: base64url JSON of the direction ('a': after the position,
 * oldest first; 'b': before it, newest first), the position, and the query they continue (page
 * size and filters), so `?cursor=` alone continues the same query and a cursor sent with other
 * filters is refused. Positions are per-tenant integers (see DomainEvent).
 */
function cursorFor(direction: 'after' | 'before', position: number, q: CursorQuery): string {
  const payload = { d: direction === 'after' ? 'a' : 'b', p: position, l: q.limit, t: q.type, rt: q.resourceType, ri: q.resourceId };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

const badCursor = () => new AppError('request.invalid_cursor', 'The cursor must be a nextCursor or prevCursor returned by this endpoint, passed unchanged.');
const optionalText = (v: unknown): v is string | undefined => v === undefined || (typeof v === 'string' && v.length <= 256);

function decodeCursor(token: string): { range: Range; query: CursorQuery } {
  if (token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(token)) throw badCursor();
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw badCursor();
  }
  const positionOk = typeof c.p === 'number' && Number.isSafeInteger(c.p) && c.p >= 0;
  const limitOk = typeof c.l === 'number' && Number.isInteger(c.l) && c.l >= 1 && c.l <= 1000;
  if (c === null || typeof c !== 'object' || (c.d !== 'a' && c.d !== 'b') || !positionOk || !limitOk || ![c.t, c.rt, c.ri].every(optionalText)) throw badCursor();
  const position = c.p as number;
  return {
    range: c.d === 'a' ? { order: 'asc', after: position } : { order: 'desc', before: position },
    query: { limit: c.l as number, type: c.t as string | undefined, resourceType: c.rt as string | undefined, resourceId: c.ri as string | undefined },
  };
}

/** The audit trail and change feed: read-only views over the events written with every change. */
export class EventService {
  constructor(private readonly store: Store) {}

  /** The tenant's events by position: newest first by default, `before`/`after`/`cursor` to page. */
  async list(principal: Principal, query: EventListQuery): Promise<EventPage> {
    return this.page(principal.tenantId, query);
  }

  /** A deleted user's history stays readable: the audit trail outlives the user. */
  async userHistory(principal: Principal, userId: string, query: { limit?: number | undefined; cursor?: string | undefined }): Promise<EventPage> {
    const page = await this.page(principal.tenantId, { ...query, resourceType: 'user', resourceId: userId });
    if (page.items.length === 0 && query.cursor === undefined && !(await this.store.repos.users.exists(principal.tenantId, userId))) {
      throw new AppError('user.not_found', `No user with id ${userId}.`);
    }
    return page;
  }

  /** Every event type with its resource and payload, for webhook and change-feed consumers. */
  types(): ({ type: EventType } & EventTypeDefinition)[] {
    return (Object.entries(EVENT_CATALOGUE) as [EventType, EventTypeDefinition][]).map(([type, def]) => ({ type, ...def }));
  }

  private async page(tenantId: string, request: EventListQuery): Promise<EventPage> {
    const { range, query } = toRange(request);
    if (query.type !== undefined && !Object.hasOwn(EVENT_CATALOGUE, query.type)) {
      throw new AppError('request.validation_failed', `Unknown event type ${JSON.stringify(query.type)}; GET /v1/event-types lists them.`, [
        { field: '/querystring/type', message: 'is not an event type' },
      ]);
    }
    const rows = await this.store.repos.events.list({ tenantId, type: query.type, resourceType: query.resourceType, resourceId: query.resourceId, ...range, limit: query.limit + 1 });
    const items = rows.slice(0, query.limit);
    const first = items[0]?.position;
    const last = items.at(-1)?.position;
    const more = rows.length > query.limit && last !== undefined;
    if (range.order === 'asc') {
      return { items, nextCursor: more ? cursorFor('after', last, query) : null, prevCursor: cursorFor('before', first ?? range.after + 1, query) };
    }
    // With no events at all the other side starts at the beginning of the feed (after 0).
    return { items, nextCursor: more ? cursorFor('before', last, query) : null, prevCursor: cursorFor('after', first ?? Math.max(0, (range.before ?? 1) - 1), query) };
  }
}

/**
 * Where the page starts (`cursor`, `before` or `after`; none: the newest events) and the query
 * it continues. A cursor brings its own page size and filters; any also sent must equal them.
 */
function toRange(request: EventListQuery): { range: Range; query: CursorQuery } {
  const given = [request.cursor, request.before, request.after].filter((v) => v !== undefined).length;
  if (given > 1) throw new AppError('request.invalid_paging', 'Use one of cursor, before and after: each already says where the page starts.');
  const sent: CursorQuery = { limit: request.limit ?? DEFAULT_LIMIT, type: request.type, resourceType: request.resourceType, resourceId: request.resourceId };
  if (request.after !== undefined) return { range: { order: 'asc', after: request.after }, query: sent };
  if (request.before !== undefined) return { range: { order: 'desc', before: request.before }, query: sent };
  if (request.cursor === undefined) return { range: { order: 'desc' }, query: sent };
  const decoded = decodeCursor(request.cursor);
  const parts = [['limit', request.limit], ['type', request.type], ['resourceType', request.resourceType], ['resourceId', request.resourceId]] as const;
  for (const [name, value] of parts) {
    if (value !== undefined && value !== decoded.query[name]) {
      // The page size is `$top` on the wire (`limit` is its deprecated alias).
      const said = name === 'limit' ? 'page size ($top)' : name;
      throw new AppError('request.invalid_cursor', `The cursor continues a query with another ${said}; send the cursor alone, or start again without it.`, [
        { field: 'cursor', message: `issued for another ${said}` },
      ]);
    }
  }
  return decoded;
}
