import { describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';

/** Requests that fail before routing, and identifiers as clients write them. */
const s = useApiSuite();

const PROBLEM_KEYS = ['code', 'detail', 'errors', 'requestId', 'status', 'title', 'type'];

describe('paths that are not percent-encoded UTF-8', () => {
  it.each(['%FF', 'a%FF', '%ED%A0%80', '%C0%80', '%C0%AF', '%E0%80%80'])('GET /v1/users/by-username/%s is our 400 problem naming the path', async (segment) => {
    const res = await s.request({ method: 'GET', url: `/v1/users/by-username/${segment}?x=1` });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const problem = res.json() as Record<string, unknown> & { errors: { field: string; message: string }[] };
    expect(Object.keys(problem).sort()).toEqual(PROBLEM_KEYS);
    expect(problem).toMatchObject({ status: 400, code: 'request.validation_failed', type: 'https://roster.dev/errors/request.validation_failed' });
    expect(problem.requestId).toBe(res.headers['x-request-id']);
    expect(problem.errors).toEqual([{ field: '/params', message: `"/v1/users/by-username/${segment}" is not percent-encoded UTF-8` }]);
    expect(problem.detail).toContain(`/v1/users/by-username/${segment}`);
    expect(res.body).not.toContain('FST_ERR');
  });

  it('keeps the caller request id and answers the same without a token', async () => {
    const res = await s.t.request({ method: 'GET', url: '/v1/users/%FF', headers: { 'x-request-id': 'trace-123' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request.validation_failed', requestId: 'trace-123' });
    expect(res.headers['x-request-id']).toBe('trace-123');
  });

  it('answers an overlong path parameter with a 414 problem', async () => {
    const res = await s.request({ method: 'GET', url: `/v1/users/by-username/${'x'.repeat(600)}` });
    expect(res.statusCode, res.body).toBe(414);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(Object.keys(res.json()).sort()).toEqual(PROBLEM_KEYS);
    expect(res.json()).toMatchObject({ status: 414, code: 'request.validation_failed', errors: [{ field: '/params' }] });
  });
});

describe('upper-case UUIDs (RFC 9562 §4: compared case-insensitively)', () => {
  const post = async (url: string, payload?: Record<string, unknown>) => {
    const res = await s.request({ method: 'POST', url, payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string };
  };

  it('finds the user by an upper-case id in the path, as the filter does', async () => {
    const user = await post('/v1/users', { userName: s.unique('upper') });
    const upper = user.id.toUpperCase();
    expect(upper).not.toBe(user.id);
    const res = await s.request({ method: 'GET', url: `/v1/users/${upper}` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().id).toBe(user.id);
    const filtered = await s.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(`id eq ${upper}`)}` });
    expect(filtered.json().items.map((u: { id: string }) => u.id)).toEqual([user.id]);
    const patched = await s.request({ method: 'PATCH', url: `/v1/users/${upper}`, payload: { displayName: 'Upper' }, headers: { 'content-type': 'application/merge-patch+json' } });
    expect(patched.statusCode, patched.body).toBe(200);
  });

  it('accepts an upper-case managerId and stores it in lower case', async () => {
    const boss = await post('/v1/users', { userName: s.unique('boss') });
    const report = await post('/v1/users', { userName: s.unique('report'), managerId: boss.id.toUpperCase() });
    expect((await s.request({ method: 'GET', url: `/v1/users/${report.id}` })).json().managerId).toBe(boss.id);
    const reports = await s.request({ method: 'GET', url: `/v1/users/${boss.id.toUpperCase()}/reports` });
    expect(reports.json().items.map((u: { id: string }) => u.id)).toEqual([report.id]);
  });

  it('accepts upper-case ids in membership paths and bodies', async () => {
    const user = await post('/v1/users', { userName: s.unique('member') });
    const [a, b] = [await post('/v1/groups', { name: s.unique('g') }), await post('/v1/groups', { name: s.unique('g') })];
    const added = await s.request({ method: 'POST', url: `/v1/groups/${a.id.toUpperCase()}/members/${user.id.toUpperCase()}` });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json().id).toBe(user.id);
    const members = await s.request({ method: 'GET', url: `/v1/groups/${a.id}/members` });
    expect(members.json().items.map((u: { id: string }) => u.id)).toEqual([user.id]);
    const put = await s.request({ method: 'PUT', url: `/v1/users/${user.id.toUpperCase()}/groups`, payload: [{ id: a.id.toUpperCase() }, { id: b.id.toUpperCase() }] });
    expect(put.statusCode, put.body).toBeLessThan(300);
    const listed = await s.request({ method: 'GET', url: `/v1/users/${user.id}/groups` });
    expect(listed.json().items.map((g: { id: string }) => g.id).sort()).toEqual([a.id, b.id].sort());
  });
});
