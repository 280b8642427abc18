import { describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';

/*
 * SCIM writes under real concurrency: every request of a test is sent at once. On PostgreSQL they
 * run in parallel transactions; SQLite runs one write at a time and must give the same answers.
 */
const s = useApiSuite();
const times = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));

let token: string | undefined;
async function scim(method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  token ??= (await s.request({ method: 'POST', url: '/v1/api-tokens', payload: { name: s.unique('race'), scopes: ['scim'], origin: 'race' } })).json().token as string;
  return s.request({ method, url, token, headers, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
}
async function users(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await scim('POST', '/scim/v2/Users', { userName: `${s.unique('member')}@race.test` });
    expect(res.statusCode, res.body).toBe(201);
    ids.push(res.json().id);
  }
  return ids;
}
async function group(members: string[] = []): Promise<string> {
  const res = await scim('POST', '/scim/v2/Groups', { displayName: s.unique('Race group'), members: members.map((value) => ({ value })) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}
const membersOf = async (id: string) => ((await scim('GET', `/scim/v2/Groups/${id}`)).json().members ?? []).map((m: { value: string }) => m.value).sort();

describe('SCIM under concurrency', () => {
  it('adds members from parallel PATCHes: every one lands, one version and one event per change', async () => {
    const ids = await users(12);
    const id = await group();
    const results = await times(12, (i) => scim('PATCH', `/scim/v2/Groups/${id}`, { Operations: [{ op: 'add', path: 'members', value: [{ value: ids[i] }] }] }));
    expect(results.map((r) => r.statusCode)).toEqual(Array(12).fill(204));
    expect(await membersOf(id)).toEqual([...ids].sort());
    expect((await scim('GET', `/scim/v2/Groups/${id}`)).json().meta.version).toBe('W/"13"');
  });

  it('replaces the member list from parallel PATCHes: the result is exactly one of the lists, never a mix', async () => {
    const ids = await users(12);
    const id = await group(ids.slice(0, 4));
    const lists = [0, 1, 2, 3, 4, 5].map((k) => ids.slice(k * 2, k * 2 + 4).sort());
    const results = await times(lists.length, (k) => scim('PATCH', `/scim/v2/Groups/${id}`, { Operations: [{ op: 'replace', path: 'members', value: (lists[k] as string[]).map((value) => ({ value })) }] }));
    expect(results.every((r) => r.statusCode === 204)).toBe(true);
    const final = await membersOf(id);
    expect(lists.some((list) => JSON.stringify(list) === JSON.stringify(final)), JSON.stringify(final)).toBe(true);
  });

  it('lets exactly one of parallel If-Match PATCHes of one version win; the others are 412', async () => {
    const [user] = await users(1);
    const results = await times(6, (i) => scim('PATCH', `/scim/v2/Users/${user}`, { Operations: [{ op: 'replace', path: 'title', value: `T${i}` }] }, { 'if-match': 'W/"1"' }));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 412, 412, 412, 412, 412]);
    const id = await group();
    const groupResults = await times(4, () => scim('PATCH', `/scim/v2/Groups/${id}`, { Operations: [{ op: 'replace', path: 'displayName', value: s.unique('renamed') }] }, { 'if-match': 'W/"1"' }));
    expect(groupResults.map((r) => r.statusCode).sort()).toEqual([204, 412, 412, 412]);
  });

  it('creates a userName once from parallel POSTs: one 201, the others 409 uniqueness', async () => {
    const userName = `${s.unique('twin')}@race.test`;
    const results = await times(8, () => scim('POST', '/scim/v2/Users', { userName }));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json()).toMatchObject({ status: '409', scimType: 'uniqueness' });
  });
});
