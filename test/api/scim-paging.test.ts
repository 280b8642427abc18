import { describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';
import { GROUP_MODEL, USER_MODEL, type ScimAttribute } from '../../src/http/scim/scim-attributes.js';
import { SCIM_ENTERPRISE_USER_SCHEMA, SCIM_GROUP_SCHEMA, SCIM_USER_SCHEMA } from '../../src/http/scim/scim-schema-definitions.js';

const s = useApiSuite();
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';

let token: string | undefined;
async function scim(options: Parameters<typeof s.request>[0]) {
  token ??= (await s.request({ method: 'POST', url: '/v1/api-tokens', payload: { name: s.unique('paging'), scopes: ['scim'], origin: 'paging', owns: 'all' } })).json().token as string;
  return s.request({ ...options, token });
}

describe('SCIM cursor paging (RFC 9865)', () => {
  it('walks every user once while others are created and deleted during the walk', async () => {
    const prefix = s.unique('walk');
    const created: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await scim({ method: 'POST', url: '/scim/v2/Users', payload: { schemas: [CORE], userName: `${prefix}-${String(i).padStart(3, '0')}@walk.test` } });
      expect(res.statusCode, res.body).toBe(201);
      created.push(res.json().id);
    }
    const filter = encodeURIComponent(`userName sw "${prefix}"`);
    const seen: string[] = [];
    const deletedDuringWalk = new Set<string>();
    let cursor = '';
    for (let page = 0; page < 100; page++) {
      const res = await scim({ method: 'GET', url: `/scim/v2/Users?filter=${filter}&count=7&cursor=${encodeURIComponent(cursor)}&attributes=userName` });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(Number.isInteger(body.totalResults) && Number.isInteger(body.itemsPerPage)).toBe(true);
      expect(body.startIndex).toBeUndefined();
      seen.push(...body.Resources.map((r: { id: string; userName?: string }) => r.id));
      // Churn between pages: a new user (sorted after everything seen) and a deleted one not seen yet.
      await scim({ method: 'POST', url: '/scim/v2/Users', payload: { schemas: [CORE], userName: `${prefix}-zz-${page}@walk.test` } });
      const victim = created.find((id) => !seen.includes(id) && !deletedDuringWalk.has(id) && created.indexOf(id) % 5 === 4);
      if (victim) {
        expect((await scim({ method: 'DELETE', url: `/scim/v2/Users/${victim}` })).statusCode).toBe(204);
        deletedDuringWalk.add(victim);
      }
      if (!body.nextCursor) break;
      cursor = body.nextCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of created) if (!deletedDuringWalk.has(id)) expect(seen).toContain(id);
    for (const id of deletedDuringWalk) expect(seen).not.toContain(id);
  });

  it('walks back with previousCursor through the same pages, with NULL sort values and both sort orders', async () => {
    const prefix = s.unique('back');
    for (let i = 0; i < 23; i++) {
      // Every third user has no title: NULLs sort last in either order.
      const title = i % 3 === 0 ? undefined : `T${String(i % 7).padStart(2, '0')}`;
      const res = await scim({ method: 'POST', url: '/scim/v2/Users', payload: { schemas: [CORE], userName: `${prefix}-${i}@back.test`, ...(title ? { title } : {}) } });
      expect(res.statusCode, res.body).toBe(201);
    }
    const filter = encodeURIComponent(`userName sw "${prefix}"`);
    for (const order of ['ascending', 'descending']) {
      const forward: string[][] = [];
      const previous: (string | undefined)[] = [];
      let cursor = '';
      let last: { previousCursor?: string } = {};
      for (let page = 0; page < 10; page++) {
        const body = (await scim({ method: 'GET', url: `/scim/v2/Users?filter=${filter}&sortBy=title&sortOrder=${order}&count=5&cursor=${encodeURIComponent(cursor)}` })).json();
        forward.push(body.Resources.map((r: { id: string }) => r.id));
        previous.push(body.previousCursor);
        last = body;
        if (!body.nextCursor) break;
        cursor = body.nextCursor;
      }
      expect(forward.flat()).toHaveLength(23);
      expect(previous[0]).toBeUndefined();
      // From the last page, previousCursor leads back through the same pages in reverse.
      const backward: string[][] = [];
      let back = last.previousCursor;
      while (back) {
        const body = (await scim({ method: 'GET', url: `/scim/v2/Users?filter=${filter}&sortBy=title&sortOrder=${order}&count=5&cursor=${encodeURIComponent(back)}` })).json();
        backward.unshift(body.Resources.map((r: { id: string }) => r.id));
        expect(body.nextCursor).toBeDefined();
        back = body.previousCursor;
      }
      expect(backward).toEqual(forward.slice(0, -1));
    }
  });

  it('counts without returning resources for count=0, and pages by startIndex in a stable order', async () => {
    const prefix = s.unique('idx');
    for (let i = 0; i < 5; i++) await scim({ method: 'POST', url: '/scim/v2/Users', payload: { schemas: [CORE], userName: `${prefix}-${i}@idx.test` } });
    const filter = encodeURIComponent(`userName sw "${prefix}"`);
    const counted = (await scim({ method: 'GET', url: `/scim/v2/Users?filter=${filter}&count=0` })).json();
    expect(counted).toMatchObject({ totalResults: 5, itemsPerPage: 0, startIndex: 1, Resources: [] });
    const first = (await scim({ method: 'GET', url: `/scim/v2/Users?filter=${filter}&startIndex=1&count=2&sortBy=userName` })).json();
    const second = (await scim({ method: 'GET', url: `/scim/v2/Users?filter=${filter}&startIndex=3&count=2&sortBy=userName` })).json();
    const third = (await scim({ method: 'GET', url: `/scim/v2/Users?filter=${filter}&startIndex=5&count=2&sortBy=userName` })).json();
    const names = [...first.Resources, ...second.Resources, ...third.Resources].map((r: { userName: string }) => r.userName);
    expect(names).toEqual([0, 1, 2, 3, 4].map((i) => `${prefix}-${i}@idx.test`));
    expect([first.startIndex, second.startIndex, third.startIndex]).toEqual([1, 3, 5]);
    const descending = (await scim({ method: 'GET', url: `/scim/v2/Users?filter=${filter}&sortBy=userName&sortOrder=descending&count=1` })).json();
    expect(descending.Resources[0].userName).toBe(`${prefix}-4@idx.test`);
  });
});

describe('SCIM passwords', () => {
  it('are stored hashed, never returned, and the event says only that the password was set', async () => {
    const res = await scim({ method: 'POST', url: '/scim/v2/Users', payload: { schemas: [CORE], userName: `${s.unique('pw')}@pw.test`, password: 'correct horse battery staple' } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.body).not.toContain('correct horse');
    expect(res.json().password).toBeUndefined();
    const { id } = res.json();
    const events = await s.request({ method: 'GET', url: `/v1/events?$filter=${encodeURIComponent(`resource/id eq '${id}'`)}` });
    const text = events.body;
    expect(text).not.toContain('correct horse');
    expect(text).not.toContain('$argon2');
    const row = await s.t.runtime.database.db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    const patched = await scim({ method: 'PATCH', url: `/scim/v2/Users/${id}`, payload: { Operations: [{ op: 'replace', path: 'password', value: 'another long passphrase' }] } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.body).not.toContain('another long');
    const after = await s.t.runtime.database.db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow();
    expect(after.password_hash).not.toBe(row.password_hash);
  });
});

describe('SCIM schemas', () => {
  const names = (list: readonly { name: string; subAttributes?: readonly { name: string }[] }[]) =>
    list.flatMap((a) => [a.name, ...(a.subAttributes ?? []).map((sub) => `${a.name}.${sub.name}`)]).sort();
  const common = new Set(['id', 'externalId', 'meta']);
  const served = (list: readonly ScimAttribute[]) => names(list.filter((a) => !common.has(a.name)));

  it('publish exactly the attributes the adapter reads and writes', () => {
    expect(names(SCIM_USER_SCHEMA.attributes)).toEqual(served(USER_MODEL.core));
    expect(names(SCIM_ENTERPRISE_USER_SCHEMA.attributes)).toEqual(served(Object.values(USER_MODEL.extensions)[0] ?? []));
    expect(names(SCIM_GROUP_SCHEMA.attributes)).toEqual(served(GROUP_MODEL.core));
  });
});
