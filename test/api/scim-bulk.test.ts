import { describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';

const s = useApiSuite();
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

let token: string | undefined;
async function bulk(payload: unknown, headers: Record<string, string> = {}) {
  token ??= (await s.request({ method: 'POST', url: '/v1/api-tokens', payload: { name: s.unique('bulk'), scopes: ['scim'], origin: 'hr-bulk' } })).json().token as string;
  return s.request({ method: 'POST', url: '/scim/v2/Bulk', token, payload: payload as Record<string, unknown>, headers: { 'content-type': 'application/scim+json', ...headers } });
}
const user = (name: string, extra: Record<string, unknown> = {}) => ({ schemas: [CORE], userName: `${name}@bulk.test`, ...extra });

describe('SCIM /Bulk', () => {
  it('creates users and a group in one request, resolving forward bulkId references between them', async () => {
    const a = s.unique('a');
    const b = s.unique('b');
    const res = await bulk({
      schemas: [BULK],
      Operations: [
        // The group names users created later in the request; B's manager is A, created after B.
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: s.unique('Team'), members: [{ value: 'bulkId:a' }, { value: 'bulkId:b', type: 'User' }] } },
        { method: 'POST', path: '/Users', bulkId: 'b', data: user(b, { [ENTERPRISE]: { manager: { value: 'bulkId:a' } } }) },
        { method: 'POST', path: '/Users', bulkId: 'a', data: user(a) },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const ops = res.json().Operations as { bulkId: string; status: string; location: string; version: string }[];
    expect(res.json().schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse']);
    expect(ops.map((o) => [o.bulkId, o.status])).toEqual([['a', '201'], ['b', '201'], ['g', '201']]);
    const ids = Object.fromEntries(ops.map((o) => [o.bulkId, o.location.split('/').pop() as string]));
    const bUser = (await s.request({ method: 'GET', url: `/v1/users/${ids.b}` })).json();
    expect(bUser.managerId).toBe(ids.a);
    const members = (await s.request({ method: 'GET', url: `/v1/groups/${ids.g}/members` })).json().items.map((m: { id: string }) => m.id).sort();
    expect(members).toEqual([ids.a, ids.b].sort());
    expect(ops.find((o) => o.bulkId === 'g')?.version).toBe('W/"2"');
  });

  it('reports each failed operation with its SCIM error, applies the others, and stops after failOnErrors', async () => {
    const taken = s.unique('taken');
    expect((await bulk({ schemas: [BULK], Operations: [{ method: 'POST', path: '/Users', bulkId: 'x', data: user(taken) }] })).json().Operations[0].status).toBe('201');
    const ok = s.unique('ok');
    const res = await bulk({
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'dup', data: user(taken) },
        { method: 'POST', path: '/Users', bulkId: 'good', data: user(ok) },
        { method: 'POST', path: '/Users', bulkId: 'bad', data: { schemas: [CORE], userName: 5 } },
        { method: 'PATCH', path: '/Users/bulkId:dup', data: { Operations: [{ op: 'replace', path: 'title', value: 'x' }] } },
      ],
    });
    const ops = res.json().Operations;
    expect(ops[0]).toMatchObject({ bulkId: 'dup', status: '409', response: { status: '409', scimType: 'uniqueness' } });
    expect(ops[1]).toMatchObject({ bulkId: 'good', status: '201' });
    expect(ops[2]).toMatchObject({ bulkId: 'bad', status: '400', response: { scimType: 'invalidValue' } });
    expect(ops[3]).toMatchObject({ method: 'PATCH', status: '400' });
    expect(ops[3].response.detail).toContain('bulkId:dup failed');
    const found = await s.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(`userName eq '${ok}@bulk.test'`)}` });
    expect(found.json().items).toHaveLength(1);

    const stopped = await bulk({
      schemas: [BULK],
      failOnErrors: 1,
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'd1', data: user(taken) },
        { method: 'POST', path: '/Users', bulkId: 'never', data: user(s.unique('never')) },
      ],
    });
    expect(stopped.json().Operations).toHaveLength(1);
    expect(stopped.json().Operations[0].status).toBe('409');
  });

  it('creates a run of users together, yet each taken or repeated userName or externalId fails alone', async () => {
    const stored = s.unique('stored');
    const first = await bulk({ schemas: [BULK], Operations: [{ method: 'POST', path: '/Users', bulkId: 's', data: user(stored, { externalId: `ext-${stored}` }) }] });
    expect(first.json().Operations[0].status).toBe('201');
    const twice = s.unique('twice');
    const fine = [s.unique('f1'), s.unique('f2')];
    const res = await bulk({
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'f1', data: user(fine[0] as string, { password: 'a long enough passphrase' }) },
        { method: 'POST', path: '/Users', bulkId: 'taken', data: user(stored.toUpperCase()) },
        { method: 'POST', path: '/Users', bulkId: 't1', data: user(twice) },
        { method: 'POST', path: '/Users', bulkId: 't2', data: user(twice) },
        { method: 'POST', path: '/Users', bulkId: 'ext', data: user(s.unique('other'), { externalId: `EXT-${stored}` }) },
        { method: 'POST', path: '/Users', bulkId: 'f2', data: user(fine[1] as string, { externalId: `ext-${fine[1]}` }) },
      ],
    });
    const ops = res.json().Operations as { bulkId: string; status: string; response?: { scimType?: string } }[];
    expect(ops.map((o) => [o.bulkId, o.status])).toEqual([['f1', '201'], ['taken', '409'], ['t1', '201'], ['t2', '409'], ['ext', '409'], ['f2', '201']]);
    for (const o of ops.filter((x) => x.status === '409')) expect(o.response?.scimType).toBe('uniqueness');
    for (const name of fine) {
      const found = await s.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(`userName eq '${name}@bulk.test'`)}` });
      expect(found.json().items).toHaveLength(1);
    }
    const f1 = (res.json().Operations[0].location as string).split('/').pop();
    const history = (await s.request({ method: 'GET', url: `/v1/users/${f1}/history` })).json().items.map((e: { type: string }) => e.type);
    expect(history).toEqual(['user.password_changed', 'user.created']);
    const other = await s.request({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(`startswith(userName,'other')`)}` });
    expect(other.json().items).toHaveLength(0);
  });

  it('reports circular bulkId references and unknown ones', async () => {
    const res = await bulk({
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'p', data: user(s.unique('p'), { [ENTERPRISE]: { manager: { value: 'bulkId:q' } } }) },
        { method: 'POST', path: '/Users', bulkId: 'q', data: user(s.unique('q'), { [ENTERPRISE]: { manager: { value: 'bulkId:p' } } }) },
        { method: 'POST', path: '/Users', bulkId: 'r', data: user(s.unique('r'), { [ENTERPRISE]: { manager: { value: 'bulkId:nobody' } } }) },
      ],
    });
    const ops = res.json().Operations as { bulkId: string; status: string; response: { detail: string } }[];
    expect(ops.find((o) => o.bulkId === 'r')).toMatchObject({ status: '400' });
    expect(ops.find((o) => o.bulkId === 'p')?.status).toBe('409');
    expect(ops.find((o) => o.bulkId === 'q')?.status).toBe('409');
    expect(ops.find((o) => o.bulkId === 'p')?.response.detail).toContain('cycle');
  });

  it('refuses more than maxOperations with 413 and a SCIM error, and a malformed request with 400', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ method: 'DELETE', path: `/Users/00000000-0000-7000-8000-${String(i).padStart(12, '0')}` }));
    const tooMany = await bulk({ schemas: [BULK], Operations: many });
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '413' });
    for (const payload of [{ schemas: [BULK] }, { Operations: [{ method: 'GET', path: '/Users' }] }, { Operations: [{ method: 'POST', path: '/Users', data: user('nobulkid') }] }, { Operations: [{ method: 'POST', path: '/Elsewhere', bulkId: 'e', data: {} }] }]) {
      const res = await bulk(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().status).toBe('400');
    }
  });

  it('runs PUT, PATCH and DELETE on existing resources with their versions', async () => {
    const created = await bulk({ schemas: [BULK], Operations: [{ method: 'POST', path: '/Users', bulkId: 'u', data: user(s.unique('v')) }] });
    const { location, version } = created.json().Operations[0];
    const id = location.split('/').pop();
    const res = await bulk({
      schemas: [BULK],
      Operations: [
        { method: 'PATCH', path: `/Users/${id}`, version: 'W/"99"', data: { Operations: [{ op: 'replace', path: 'title', value: 'stale' }] } },
        { method: 'PATCH', path: `/Users/${id}`, version, data: { Operations: [{ op: 'replace', path: 'title', value: 'Lead' }] } },
        { method: 'DELETE', path: `/Users/${id}` },
      ],
    });
    expect(res.json().Operations.map((o: { status: string }) => o.status)).toEqual(['412', '200', '204']);
    expect((await s.request({ method: 'GET', url: `/v1/users/${id}` })).statusCode).toBe(404);
  });
});
