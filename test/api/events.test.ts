import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_CATALOGUE } from '../../src/domain/event-catalogue.js';
import { ADMIN_CLIENT_ID, useTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let admin: string;
useTestApp((app, token) => {
  t = app;
  admin = token;
});

interface Event {
  id: string;
  position: number;
  type: string;
  actor: { type: string; id: string | null };
  resource: { type: string; id: string };
  context: { requestId?: string };
}
interface Page {
  items: Event[];
  nextCursor: string | null;
  prevCursor: string;
}

const feed = async (query: string): Promise<Page> => {
  const res = await t.request({ method: 'GET', url: `/v1/events?${query}`, token: admin });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
};
const createUser = async (userName: string, headers: Record<string, string> = {}) => {
  const res = await t.request({ method: 'POST', url: '/v1/users', token: admin, payload: { userName }, headers });
  expect(res.statusCode, res.body).toBe(201);
  return res;
};
/** Follows nextCursor from `query` to the end; returns every page's items in order. */
const walk = async (query: string): Promise<Event[][]> => {
  const pages: Event[][] = [];
  let page = await feed(query);
  pages.push(page.items);
  while (page.nextCursor !== null) {
    page = await feed(`limit=3&cursor=${page.nextCursor}`);
    pages.push(page.items);
  }
  return pages;
};
const ids = (events: Event[]) => events.map((e) => e.id);

describe('GET /v1/events', () => {
  let all: Event[];
  beforeAll(async () => {
    for (let i = 0; i < 8; i++) await createUser(`feed-${i}`);
    const group = (await t.request({ method: 'POST', url: '/v1/groups', token: admin, payload: { name: 'Feeders' } })).json();
    await t.request({ method: 'PATCH', url: `/v1/groups/${group.id}`, token: admin, payload: { description: 'people who feed' } });
    all = (await feed('limit=1000')).items;
  });

  it('lists newest first with positions that grow in the order changes were made', async () => {
    expect(all.length).toBe(10);
    expect(all.map((e) => e.type).slice(0, 3)).toEqual(['group.updated', 'group.created', 'user.created']);
    const positions = all.map((e) => e.position);
    expect(positions).toEqual([...positions].sort((a, b) => b - a));
    expect(new Set(positions).size).toBe(positions.length);
  });

  it('pages older with nextCursor (or before) without gaps or repeats', async () => {
    const pages = await walk('limit=3');
    expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 1]);
    expect(ids(pages.flat())).toEqual(ids(all));
    const middle = all[4] as Event;
    expect(ids((await feed(`before=${middle.position}&limit=1000`)).items)).toEqual(ids(all.slice(5)));
  });

  it('pages newer, oldest first, with after: the change-feed direction', async () => {
    const oldestFirst = [...all].reverse();
    const pages = await walk('limit=3&after=0');
    expect(ids(pages.flat())).toEqual(ids(oldestFirst));
    const third = oldestFirst[2] as Event;
    expect(ids((await feed(`after=${third.position}&limit=2`)).items)).toEqual(ids(oldestFirst.slice(3, 5)));
    const last = oldestFirst.at(-1) as Event;
    const end = await feed(`after=${last.position}`);
    expect(end).toMatchObject({ items: [], nextCursor: null });
    // Its prevCursor reads back from the end of the feed: the newest events first.
    expect(ids((await feed(`cursor=${end.prevCursor}`)).items)).toEqual(ids(all.slice(0, 50)));
  });

  it('goes back and forth with prevCursor', async () => {
    const first = await feed('limit=3');
    const second = await feed(`limit=3&cursor=${first.nextCursor}`);
    // From the second page back: the events newer than its first one, oldest first, i.e. page one reversed.
    const back = await feed(`limit=3&cursor=${second.prevCursor}`);
    expect(ids(back.items)).toEqual(ids([...first.items].reverse()));
    // The first page's prevCursor is where a change feed polls: nothing yet, then the next change.
    expect((await feed(`cursor=${first.prevCursor}`)).items).toEqual([]);
    await createUser('feed-late');
    const polled = await feed(`cursor=${first.prevCursor}`);
    expect(polled.items.map((e) => e.type)).toEqual(['user.created']);
    expect(polled.items[0]?.position).toBeGreaterThan(first.items[0]?.position ?? Infinity);
    // And from an `after` page back: the older events, newest first.
    expect(ids((await feed(`cursor=${polled.prevCursor}`)).items)).toEqual(ids(first.items.slice(0, 3)));
  });

  it('binds a cursor to its query: the cursor alone continues with the same filters and page size; other ones are refused', async () => {
    const first = await feed('type=user.created&limit=2');
    const next = await feed(`cursor=${first.nextCursor}`);
    expect(next.items).toHaveLength(2);
    expect(next.items.every((e) => e.type === 'user.created')).toBe(true);
    expect(next.items[0]?.position).toBeLessThan(first.items[1]?.position ?? 0);
    expect((await feed(`type=user.created&limit=2&cursor=${first.nextCursor}`)).items).toEqual(next.items);
    for (const other of ['type=group.created', 'limit=3', 'resourceType=group']) {
      const res = await t.request({ method: "GET", url: `/v1/events?${other}&cursor=${first.nextCursor}`, token: admin });
      expect(res.statusCode, other).toBe(400);
      expect(res.json().code).toBe('request.invalid_cursor');
    }
    const unknown = await t.request({ method: "GET", url: "/v1/events?type=user.nope", token: admin });
    expect(unknown.statusCode).toBe(400);
  });

  it('filters by type, resource type and resource id, paging within the filter', async () => {
    const created = await walk('limit=3&type=user.created');
    expect(created.flat().every((e) => e.type === 'user.created')).toBe(true);
    expect(created.flat().length).toBe(9);
    const group = all.find((e) => e.type === 'group.created') as Event;
    const ofGroup = (await feed(`resourceType=group&resourceId=${group.resource.id}`)).items;
    expect(ofGroup.map((e) => e.type)).toEqual(['group.updated', 'group.created']);
    expect((await feed(`resourceType=user&resourceId=${group.resource.id}`)).items).toEqual([]);
  });

  it('refuses bad cursors and contradictory paging with a 400 problem', async () => {
    const user = all.find((e) => e.type === 'user.created') as Event;
    for (const query of ['cursor=bogus', 'cursor=x12', 'cursor=b', `cursor=${user.id}`, 'cursor=a-1']) {
      const res = await t.request({ method: 'GET', url: `/v1/events?${query}`, token: admin });
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code, query).toBe('request.invalid_cursor');
    }
    for (const query of ['after=-1', 'after=abc', 'before=1.5', `after=${'9'.repeat(20)}`]) {
      const res = await t.request({ method: 'GET', url: `/v1/events?${query}`, token: admin });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code, query).toBe('request.validation_failed');
    }
    for (const query of ['after=1&before=5', 'cursor=b5&after=1', 'cursor=a1&before=9']) {
      const res = await t.request({ method: 'GET', url: `/v1/events?${query}`, token: admin });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code, query).toBe('request.invalid_paging');
    }
  });
});

describe('event context and actor', () => {
  it('records the X-Request-Id of the request that made the change', async () => {
    const sent = await createUser('ctx-sent', { 'x-request-id': 'req-events-42' });
    expect(sent.headers['x-request-id']).toBe('req-events-42');
    const generated = await createUser('ctx-generated');
    for (const res of [sent, generated]) {
      const userId = res.json().id as string;
      const [event] = (await feed(`resourceType=user&resourceId=${userId}`)).items;
      expect(event?.context).toEqual({ requestId: res.headers['x-request-id'] });
    }
  });

  it('shows the keys of changes and context in one order (code points, at every depth) on both databases', async () => {
    // Written in neither order: SQLite keeps the order written, PostgreSQL jsonb orders keys by length.
    const payload = { userName: 'key-order', title: 'Engineer', displayName: 'Key Order', attributes: { zeta: 1, b: { yy: 1, x: 2 }, aa: 3 } };
    const created = await t.request({ method: 'POST', url: '/v1/users', token: admin, payload, headers: { 'x-request-id': 'req-key-order' } });
    expect(created.statusCode, created.body).toBe(201);
    const sorted = (keys: string[]) => [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const [listed] = (await feed(`resourceType=user&resourceId=${created.json().id}`)).items as (Event & { changes: Record<string, { from: unknown; to: unknown }> })[];
    const newer = (await feed(`after=0&resourceType=user&resourceId=${created.json().id}`)).items as (Event & { changes: Record<string, { from: unknown; to: unknown }> })[];
    expect(newer).toHaveLength(1);
    for (const event of [listed, ...newer]) {
      if (!event) throw new Error('no event');
      const keys = Object.keys(event.changes);
      expect(keys).toEqual(expect.arrayContaining(['userName', 'title', 'displayName', 'attributes']));
      expect(keys).toEqual(sorted(keys));
      const attributes = event.changes.attributes?.to as Record<string, unknown>;
      expect(Object.keys(attributes)).toEqual(['aa', 'b', 'zeta']);
      expect(Object.keys(attributes.b as object)).toEqual(['x', 'yy']);
      expect(Object.keys(event.context)).toEqual(sorted(Object.keys(event.context)));
    }
  });

  it('records the client or API token that made the change', async () => {
    const byClient = (await createUser('actor-client')).json().id as string;
    expect((await feed(`resourceId=${byClient}`)).items[0]?.actor).toEqual({ type: 'client', id: ADMIN_CLIENT_ID });

    const created = (await t.request({ method: 'POST', url: '/v1/api-tokens', token: admin, payload: { name: 'writer', scopes: ['users:write'] } })).json();
    const res = await t.request({ method: 'POST', url: '/v1/users', token: created.token, payload: { userName: 'actor-token' } });
    expect(res.statusCode).toBe(201);
    const [event] = (await feed(`resourceId=${res.json().id}`)).items;
    expect(event?.actor).toEqual({ type: 'api_token', id: created.id });
    expect(event?.context.requestId).toBe(res.headers['x-request-id']);
  });

  it('gives one change the same type whichever side made it', async () => {
    const user = (await createUser('two-sides')).json().id as string;
    const group = (await t.request({ method: 'POST', url: '/v1/groups', token: admin, payload: { name: 'Two sides' } })).json().id as string;
    await t.request({ method: 'POST', url: `/v1/users/${user}/groups/${group}`, token: admin });
    await t.request({ method: 'DELETE', url: `/v1/groups/${group}/members/${user}`, token: admin });
    await t.request({ method: 'POST', url: `/v1/groups/${group}/members/${user}`, token: admin });
    await t.request({ method: 'DELETE', url: `/v1/groups/${group}`, token: admin });
    const history = (await feed(`resourceType=user&resourceId=${user}`)).items.map((e) => e.type);
    expect(history).toEqual(['user.memberships_changed', 'user.memberships_changed', 'user.memberships_changed', 'user.memberships_changed', 'user.created']);
  });

  it('writes only types from the catalogue', async () => {
    const types = new Set((await feed('limit=1000')).items.map((e) => e.type));
    expect(types.size).toBeGreaterThan(3);
    for (const type of types) expect(Object.keys(EVENT_CATALOGUE), type).toContain(type);
  });
});

describe('GET /v1/event-types', () => {
  it('lists every type with its resource and payload, for any credential', async () => {
    const created = (await t.request({ method: 'POST', url: '/v1/api-tokens', token: admin, payload: { name: 'reader', scopes: ['users:read'] } })).json();
    const res = await t.request({ method: 'GET', url: '/v1/event-types', token: created.token });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { type: string; resource: string; description: string; payload: string }[];
    const types = items.map((i) => i.type);
    expect(types).toContain('user.memberships_changed');
    expect(types).toContain('user.offboarding_started');
    expect(types).not.toContain('user.deactivated');
    expect(items.find((i) => i.type === 'attribute_definition.deleted')).toMatchObject({ resource: 'attribute_definition' });
    expect(items.length).toBe(15 + 9 * 3);
    expect(types).toContain('user.password_changed');
    expect(items.every((i) => i.description.length > 0 && i.payload.length > 0)).toBe(true);
    expect((await t.request({ method: 'GET', url: '/v1/event-types' })).statusCode).toBe(401);
  });
});
