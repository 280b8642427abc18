import { beforeAll, describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';

/**
 * The lists paged in id order (tenants, clients, API tokens, jobs, members, reports) hand out
 * opaque cursors bound to their query, like the filterable lists: an altered or foreign cursor,
 * or one sent with another page size or parameter, is a 400 request.invalid_cursor.
 */
const s = useApiSuite();

interface Page {
  items: { id: string }[];
  nextCursor: string | null;
}

let groupA: string;
let groupB: string;
let manager: string;
const users: string[] = [];

beforeAll(async () => {
  const { t, token } = s;
  for (let n = 0; n < 3; n++) {
    expect((await t.request({ method: 'POST', url: '/v1/tenants', token, payload: { id: s.unique('cur').toLowerCase(), name: `Cursor ${n}` } })).statusCode).toBe(201);
    expect((await t.request({ method: 'POST', url: '/v1/clients', token, payload: { name: `cursor client ${n}`, scopes: ['users:read'] } })).statusCode).toBe(201);
    expect((await t.request({ method: 'POST', url: '/v1/api-tokens', token, payload: { name: `cursor token ${n}`, scopes: ['users:read'] } })).statusCode).toBe(201);
    await t.runtime.services.store.transaction((repos) => t.runtime.services.queue.enqueue(repos, { type: 'api.cursor', tenantId: 'default', payload: {} }));
  }
  const post = async (url: string, payload?: Record<string, unknown>) => {
    const res = await t.request({ method: 'POST', url, token, payload });
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  };
  groupA = await post('/v1/groups', { name: s.unique('cursor-a') });
  groupB = await post('/v1/groups', { name: s.unique('cursor-b') });
  manager = await post('/v1/users', { userName: s.unique('boss') });
  for (let n = 0; n < 3; n++) {
    const id = await post('/v1/users', { userName: s.unique('staff'), managerId: manager });
    users.push(id);
    await post(`/v1/groups/${groupA}/members/${id}`, undefined);
    await post(`/v1/groups/${groupB}/members/${id}`, undefined);
  }
});

const get = async (url: string) => s.request({ method: 'GET', url });
const lists = (): [string, string][] => [
  ['tenants', '/v1/tenants'],
  ['clients', '/v1/clients'],
  ['api-tokens', '/v1/api-tokens'],
  ['jobs', '/v1/jobs?type=api.cursor'],
  ['members', `/v1/groups/${groupA}/members`],
  ['reports', `/v1/users/${manager}/reports`],
];
const join = (url: string, query: string) => `${url}${url.includes('?') ? '&' : '?'}${query}`;

async function walk(url: string, top: number): Promise<{ ids: string[]; cursors: string[] }> {
  const ids: string[] = [];
  const cursors: string[] = [];
  let res = await get(join(url, `$top=${top}`));
  for (let pages = 0; pages < 50; pages++) {
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as Page;
    ids.push(...page.items.map((i) => i.id));
    expect(page.items.length).toBeLessThanOrEqual(top);
    if (page.nextCursor === null) break;
    cursors.push(page.nextCursor);
    res = await get(join(url, `cursor=${encodeURIComponent(page.nextCursor)}`));
  }
  return { ids, cursors };
}

describe.each([0, 1, 2, 3, 4, 5])('id-ordered list #%i', (index) => {
  const entry = () => lists()[index] as [string, string];

  it('pages with an opaque cursor that carries the page size', async () => {
    const [, url] = entry();
    const all = ((await get(join(url, '$top=1000'))).json() as Page).items.map((i) => i.id);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const { ids, cursors } = await walk(url, 1);
    expect(ids).toEqual(all);
    expect(cursors.length).toBe(all.length - 1);
    for (const cursor of cursors) expect(all).not.toContain(cursor);
    // The same page size sent again is the same query.
    const again = await get(join(url, `$top=1&cursor=${encodeURIComponent(cursors[0] as string)}`));
    expect(again.statusCode, again.body).toBe(200);
    expect((again.json() as Page).items.map((i) => i.id)).toEqual([all[1]]);
  });

  it('refuses a raw id, garbage or an altered cursor', async () => {
    const [, url] = entry();
    const first = (await get(join(url, '$top=1'))).json() as Page;
    const cursor = first.nextCursor as string;
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const altered = [
      first.items[0]?.id as string,
      'abc',
      cursor.slice(0, -3),
      Buffer.from(JSON.stringify({ ...decoded, n: 0 })).toString('base64url'),
      Buffer.from(JSON.stringify({ ...decoded, i: 7 })).toString('base64url'),
      Buffer.from(JSON.stringify({ ...decoded, x: 1 })).toString('base64url'),
      Buffer.from(JSON.stringify({ ...decoded, p: { ...(decoded.p as object), sneaky: 'x' } })).toString('base64url'),
      Buffer.from(JSON.stringify({ ...decoded, i: 'a\u0000b' })).toString('base64url'),
    ];
    for (const bad of altered) {
      const res = await get(join(url, `cursor=${encodeURIComponent(bad)}`));
      expect(res.statusCode, bad).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const problem = res.json() as { code: string; errors: { field: string }[] };
      expect(problem.code, bad).toBe('request.invalid_cursor');
      expect(problem.errors[0]?.field).toBe('cursor');
    }
  });

  it('refuses a cursor sent with another page size, naming $top or limit', async () => {
    const [, url] = entry();
    const cursor = encodeURIComponent((await get(join(url, '$top=1'))).json().nextCursor as string);
    for (const [parameter, size] of [['$top', 2], ['limit', 2]] as const) {
      const res = await get(join(url, `${parameter}=${size}&cursor=${cursor}`));
      expect(res.statusCode, res.body).toBe(400);
      const problem = res.json() as { code: string; detail: string; errors: { field: string }[] };
      expect(problem.code).toBe('request.invalid_cursor');
      expect(problem.errors.map((e) => e.field)).toEqual(['cursor', parameter]);
      expect(problem.detail).toContain(parameter);
    }
  });

  it("refuses another list's cursor", async () => {
    const [name, url] = entry();
    const [, otherUrl] = lists().find(([other]) => other !== name) as [string, string];
    const foreign = (await get(join(otherUrl, '$top=1'))).json().nextCursor as string;
    const res = await get(join(url, `cursor=${encodeURIComponent(foreign)}`));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('request.invalid_cursor');
  });
});

describe('cursors bound to the list parameters', () => {
  it("refuses one group's members cursor on another group's members", async () => {
    const cursor = encodeURIComponent((await get(`/v1/groups/${groupA}/members?$top=1`)).json().nextCursor as string);
    const res = await get(`/v1/groups/${groupB}/members?cursor=${cursor}`);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request.invalid_cursor', errors: [{ field: 'cursor' }, { field: 'target' }] });
  });

  it('keeps the job filters of the cursor and refuses other ones', async () => {
    const first = (await get('/v1/jobs?type=api.cursor&$top=2')).json() as Page;
    const rest = (await get(`/v1/jobs?cursor=${encodeURIComponent(first.nextCursor as string)}`)).json() as Page;
    const all = ((await get('/v1/jobs?type=api.cursor')).json() as Page).items.map((j) => j.id);
    expect([...first.items, ...rest.items].map((j) => j.id)).toEqual(all);
    const res = await get(`/v1/jobs?type=api.other&cursor=${encodeURIComponent(first.nextCursor as string)}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request.invalid_cursor', errors: [{ field: 'cursor' }, { field: 'type' }] });
    expect((await get(`/v1/jobs?type=api.cursor&cursor=${encodeURIComponent(first.nextCursor as string)}`)).statusCode).toBe(200);
  });

  it('keeps the reports depth of the cursor and refuses another', async () => {
    const cursor = encodeURIComponent((await get(`/v1/users/${manager}/reports?depth=all&$top=1`)).json().nextCursor as string);
    expect((await get(`/v1/users/${manager}/reports?cursor=${cursor}`)).statusCode).toBe(200);
    const res = await get(`/v1/users/${manager}/reports?depth=1&cursor=${cursor}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request.invalid_cursor', errors: [{ field: 'cursor' }, { field: 'depth' }] });
  });

  it("refuses a cursor of another tenant's client list", async () => {
    const cursor = encodeURIComponent((await get('/v1/clients?$top=1')).json().nextCursor as string);
    const res = await get(`/v1/clients?tenantId=other&cursor=${cursor}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request.invalid_cursor', errors: [{ field: 'cursor' }, { field: 'tenantId' }] });
  });
});
