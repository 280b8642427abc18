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
  limit: number;
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

/**
 * Cursors are opaque to clients but simple: 'b<position>' reads before that position newest
 * first, 'a<position>' after it oldest first. Positions are per-tenant integers (see DomainEvent).
 */
const CURSOR = /^([ab])(\d{1,15})$/;
const cursorFor = (direction: 'after' | 'before', position: number): string => `${direction === 'after' ? 'a' : 'b'}${position}`;

/** The audit trail and change feed: read-only views over the events written with every change. */
export class EventService {
  constructor(private readonly store: Store) {}

  /** The tenant's events by position: newest first by default, `before`/`after`/`cursor` to page. */
  async list(principal: Principal, query: EventListQuery): Promise<EventPage> {
    return this.page(principal.tenantId, query);
  }

  /** A deleted user's history stays readable: the audit trail outlives the user. */
  async userHistory(principal: Principal, userId: string, query: { limit: number; cursor?: string | undefined }): Promise<EventPage> {
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

  private async page(tenantId: string, query: EventListQuery): Promise<EventPage> {
    const range = toRange(query);
    const rows = await this.store.repos.events.list({
      tenantId,
      type: query.type,
      resourceType: query.resourceType,
      resourceId: query.resourceId,
      ...range,
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit);
    const first = items[0]?.position;
    const last = items.at(-1)?.position;
    const more = rows.length > query.limit && last !== undefined;
    if (range.order === 'asc') {
      return { items, nextCursor: more ? cursorFor('after', last) : null, prevCursor: cursorFor('before', first ?? range.after + 1) };
    }
    // With no events at all the other side starts at the beginning of the feed (after 0).
    return { items, nextCursor: more ? cursorFor('before', last) : null, prevCursor: cursorFor('after', first ?? Math.max(0, (range.before ?? 1) - 1)) };
  }
}

/** One way to say where to start: `cursor`, `before` or `after` (none: the newest events). */
function toRange(query: EventListQuery): Range {
  const given = [query.cursor, query.before, query.after].filter((v) => v !== undefined).length;
  if (given > 1) throw new AppError('request.invalid_paging', 'Use one of cursor, before and after: each already says where the page starts.');
  if (query.after !== undefined) return { order: 'asc', after: query.after };
  if (query.before !== undefined) return { order: 'desc', before: query.before };
  if (query.cursor === undefined) return { order: 'desc' };
  const match = CURSOR.exec(query.cursor);
  if (!match) throw new AppError('request.invalid_cursor', 'The cursor must be a nextCursor or prevCursor returned by this endpoint.');
  const position = Number(match[2]);
  return match[1] === 'a' ? { order: 'asc', after: position } : { order: 'desc', before: position };
}
