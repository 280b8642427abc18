import { describe, expect, it } from 'vitest';
import { useTestApp, type TestApp } from '../helpers/test-app.js';
import { createOtherTenant } from '../helpers/directory-fixtures.js';

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;
const MISSING = '0190a0a0-0000-7000-8000-000000000000';

interface Report {
  id: string;
  userName: string;
  managerId: string | null;
  depth: number;
}

async function createUser(managerId?: string) {
  const res = await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: unique('staff'), ...(managerId ? { managerId } : {}) } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; userName: string };
}

async function allPages(url: string, limit: number): Promise<{ items: Report[]; pages: number }> {
  const items: Report[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const res = await t.request({ method: 'GET', url: `${url}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, token });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as { items: Report[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  return { items, pages };
}

/**
 *        ceo
 *      /     \
 *    vp1     vp2
 *   /   \      \
 *  m1   m2     m3
 *  |
 *  e1
 */
async function orgChart() {
  const ceo = await createUser();
  const vp1 = await createUser(ceo.id);
  const vp2 = await createUser(ceo.id);
  const m1 = await createUser(vp1.id);
  const m2 = await createUser(vp1.id);
  const m3 = await createUser(vp2.id);
  const e1 = await createUser(m1.id);
  return { ceo, vp1, vp2, m1, m2, m3, e1 };
}

describe('GET /v1/users/{id}/reports', () => {
  it('lists direct reports, or the whole subtree with depths', async () => {
    const { ceo, vp1, vp2, m1, m2, m3, e1 } = await orgChart();

    const direct = await t.request({ method: 'GET', url: `/v1/users/${ceo.id}/reports`, token });
    expect(direct.statusCode).toBe(200);
    expect(direct.json()).toEqual({
      items: [vp1, vp2].map((u) => ({ id: u.id, userName: u.userName, displayName: u.userName, email: null, status: 'active', managerId: ceo.id, depth: 1 })).sort((a, b) => (a.id < b.id ? -1 : 1)),
      nextCursor: null,
    });
    expect((await t.request({ method: 'GET', url: `/v1/users/${ceo.id}/reports?depth=1`, token })).json()).toEqual(direct.json());

    const all = await t.request({ method: 'GET', url: `/v1/users/${ceo.id}/reports?depth=all`, token });
    const items = all.json().items as Report[];
    const expected = new Map([[vp1.id, 1], [vp2.id, 1], [m1.id, 2], [m2.id, 2], [m3.id, 2], [e1.id, 3]]);
    expect(items.map((i) => i.id)).toEqual([...expected.keys()].sort());
    for (const item of items) expect(item.depth, item.userName).toBe(expected.get(item.id));
    expect(items.find((i) => i.id === e1.id)?.managerId).toBe(m1.id);

    const sub = (await t.request({ method: 'GET', url: `/v1/users/${vp1.id}/reports?depth=all`, token })).json().items as Report[];
    expect(sub.map((i) => [i.id, i.depth])).toEqual([[m1.id, 1], [m2.id, 1], [e1.id, 2]].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)));
    expect((await t.request({ method: 'GET', url: `/v1/users/${e1.id}/reports?depth=all`, token })).json()).toEqual({ items: [], nextCursor: null });
    expect((await t.request({ method: 'GET', url: `/v1/users/${e1.id}/reports`, token })).json()).toEqual({ items: [], nextCursor: null });
  });

  it('pages both modes by user id', async () => {
    const { ceo, vp1 } = await orgChart();
    const extra = await Promise.all(Array.from({ length: 3 }, () => createUser(ceo.id)));
    const direct = await allPages(`/v1/users/${ceo.id}/reports`, 2);
    expect(direct.pages).toBe(3);
    expect(direct.items).toHaveLength(5);
    expect(direct.items.map((i) => i.id)).toEqual([...direct.items.map((i) => i.id)].sort());
    expect(direct.items.map((i) => i.id)).toContain(extra[0]!.id);

    const tree = await allPages(`/v1/users/${ceo.id}/reports?depth=all`, 3);
    expect(tree.pages).toBe(3);
    expect(tree.items).toHaveLength(9);
    expect(new Set(tree.items.map((i) => i.id)).size).toBe(9);
    expect(tree.items.map((i) => i.id)).toEqual([...tree.items.map((i) => i.id)].sort());
    expect(tree.items.filter((i) => i.managerId === vp1.id)).toHaveLength(2);
  });

  it('follows a deep chain and updates when the hierarchy changes', async () => {
    const root = await createUser();
    let manager = root.id;
    const chain: string[] = [];
    for (let i = 0; i < 25; i++) {
      manager = (await createUser(manager)).id;
      chain.push(manager);
    }
    const items = (await t.request({ method: 'GET', url: `/v1/users/${root.id}/reports?depth=all&limit=1000`, token })).json().items as Report[];
    expect(items).toHaveLength(25);
    expect(Math.max(...items.map((i) => i.depth))).toBe(25);

    // Moving the middle of the chain under a new manager takes its subtree along.
    const other = await createUser();
    const moved = chain[12]!;
    expect((await t.request({ method: 'PATCH', url: `/v1/users/${moved}`, token, payload: { managerId: other.id } })).statusCode).toBe(200);
    expect((await t.request({ method: 'GET', url: `/v1/users/${root.id}/reports?depth=all&limit=1000`, token })).json().items).toHaveLength(12);
    const theirs = (await t.request({ method: 'GET', url: `/v1/users/${other.id}/reports?depth=all&limit=1000`, token })).json().items as Report[];
    expect(theirs).toHaveLength(13);
    expect(theirs.find((i) => i.id === moved)?.depth).toBe(1);
  });

  it('answers 404 for unknown or foreign users and 400 for bad queries', async () => {
    const { ceo } = await orgChart();
    for (const query of ['', '?depth=all']) {
      const res = await t.request({ method: 'GET', url: `/v1/users/${MISSING}/reports${query}`, token });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('user.not_found');
    }
    const other = await createOtherTenant(t, 'reports-other');
    for (const query of ['', '?depth=all']) {
      const res = await t.request({ method: 'GET', url: `/v1/users/${ceo.id}/reports${query}`, token: other });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('user.not_found');
    }
    for (const query of ['?depth=2', '?depth=everything', '?limit=0', '?limit=1001', '?cursor=abc', '?sort=name']) {
      const res = await t.request({ method: 'GET', url: `/v1/users/${ceo.id}/reports${query}`, token });
      expect(res.statusCode, query).toBe(400);
    }
    expect((await t.request({ method: 'GET', url: `/v1/users/not-a-uuid/reports`, token })).statusCode).toBe(400);
  });
});
