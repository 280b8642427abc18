import { beforeAll, describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';
import { URN, createScimUser, expectScimError, filterUrl, ids, scimClient, type ScimClient } from '../helpers/scim-client.js';

/**
 * RFC 7644 behaviour a SCIM client relies on: filters with every operator, sorting, index and
 * cursor paging (RFC 9865), attributes/excludedAttributes, ETags, the error bodies, credential
 * origin and ownership, tenant isolation, and SCIM changes seen by the native API and history.
 * Each list test uses a credential limited to what it provisioned ("own", a fresh origin), so it
 * sees only its own users whatever else the file created.
 */
const s = useApiSuite();
const uid = () => s.unique('p').replace(/[^a-z0-9]/gi, '');
const ownClient = () => scimClient(s, { origin: `o${uid()}`, owns: 'own' });
const sorted = (values: string[]) => [...values].sort();

describe('filters', () => {
  let c: ScimClient;
  let P: string;
  const u: Record<'alice' | 'bob' | 'carol', string> = { alice: '', bob: '', carol: '' };
  let before: string;

  beforeAll(async () => {
    c = await ownClient();
    P = uid();
    before = new Date(Date.now() - 60_000).toISOString();
    u.alice = (await createScimUser(c, `${P}alice@x.com`, {
      displayName: 'Alice Anders', title: 'Engineer', name: { givenName: 'Alice', familyName: 'Anders' },
      emails: [{ type: 'work', value: 'alice@work.example', primary: true }, { type: 'home', value: 'alice@home.example' }],
      [URN.enterprise]: { employeeNumber: '100', department: 'R&D' },
    })).id;
    u.bob = (await createScimUser(c, `${P}bob@x.com`, {
      displayName: 'Bob Brown', title: 'Manager', name: { givenName: 'Bob', familyName: 'Brown' },
      emails: [{ type: 'work', value: 'bob@work.example' }],
      [URN.enterprise]: { employeeNumber: '200', department: 'Sales' },
    })).id;
    u.carol = (await createScimUser(c, `${P}carol@y.org`, {
      displayName: 'Carol Chen', active: false, name: { givenName: 'Carol', familyName: 'Chen' },
      emails: [{ type: 'home', value: 'carol@home.example' }],
      [URN.enterprise]: { employeeNumber: '300' },
    })).id;
  });

  /** Soft: a failing filter is reported and the next one still runs, so a report lists every wrong operator. */
  const expectFilter = async (filter: string, expected: string[]) => {
    const res = await c.get(filterUrl('Users', filter));
    expect.soft(res.statusCode, `${filter}: ${res.body}`).toBe(200);
    if (res.statusCode !== 200) return;
    expect.soft(sorted(ids(res)), filter).toEqual(sorted(expected));
    expect.soft(res.json().totalResults, filter).toBe(expected.length);
  };

  it('eq ne co sw ew pr, with attribute names, operators and userName values in any case', async () => {
    await expectFilter(`userName eq "${P}ALICE@X.COM"`, [u.alice]);
    await expectFilter(`USERNAME EQ "${P}alice@x.com"`, [u.alice]);
    await expectFilter(`userName ne "${P}alice@x.com"`, [u.bob, u.carol]);
    await expectFilter('userName co "BOB"', [u.bob]);
    await expectFilter(`userName sw "${P}c"`, [u.carol]);
    await expectFilter('userName ew "@x.com"', [u.alice, u.bob]);
    await expectFilter('title pr', [u.alice, u.bob]);
    await expectFilter('displayName co "an"', [u.alice]);
    await expectFilter('name.familyName eq "Brown"', [u.bob]);
  });

  it('eq and ne ignore case on every caseExact=false attribute, not only userName (RFC 7643 §2.2)', async () => {
    await expectFilter('name.familyName eq "brown"', [u.bob]);
    await expectFilter('displayName eq "alice anders"', [u.alice]);
    await expectFilter('title eq "ENGINEER"', [u.alice]);
    await expectFilter(`${URN.enterprise}:department eq "r&d"`, [u.alice]);
    await expectFilter('title ne "engineer" and title pr', [u.bob]);
  });

  it('gt ge lt le on text and on meta dates', async () => {
    const ep = `${URN.enterprise}:employeeNumber`;
    await expectFilter(`${ep} gt "150"`, [u.bob, u.carol]);
    await expectFilter(`${ep} ge "200"`, [u.bob, u.carol]);
    await expectFilter(`${ep} lt "200"`, [u.alice]);
    await expectFilter(`${ep} le "200"`, [u.alice, u.bob]);
    await expectFilter(`meta.lastModified gt "${before}"`, [u.alice, u.bob, u.carol]);
    await expectFilter('meta.lastModified gt "2999-01-01T00:00:00Z"', []);
    await expectFilter('meta.created lt "2000-01-01T00:00:00Z"', []);
    await expectFilter(`meta.created ge "${before}"`, [u.alice, u.bob, u.carol]);
  });

  it('and, or, not, grouping and precedence', async () => {
    await expectFilter('title eq "Engineer" or title eq "Manager"', [u.alice, u.bob]);
    await expectFilter('not (title pr)', [u.carol]);
    await expectFilter('(title eq "Engineer" or title eq "Manager") and active eq true', [u.alice, u.bob]);
    await expectFilter('title eq "Engineer" or title eq "Manager" and userName sw "nobody"', [u.alice]);
    await expectFilter('not (title eq "Engineer") and not (active eq false)', [u.bob]);
    await expectFilter('active eq false', [u.carol]);
    await expectFilter('((((title eq "Manager"))))', [u.bob]);
  });

  it('value paths, sub-attributes and URN-qualified attributes', async () => {
    await expectFilter('emails[type eq "work" and value co "alice"]', [u.alice]);
    await expectFilter('emails[type eq "home"]', [u.alice, u.carol]);
    await expectFilter('emails[type eq "work" and primary eq true].value eq "alice@work.example"', [u.alice]);
    await expectFilter('emails.value ew "home.example"', [u.alice, u.carol]);
    await expectFilter('emails.type eq "work"', [u.alice, u.bob]);
    await expectFilter('emails pr', [u.alice, u.bob, u.carol]);
    await expectFilter(`${URN.user}:userName eq "${P}bob@x.com"`, [u.bob]);
    await expectFilter(`${URN.enterprise}:department eq "R&D"`, [u.alice]);
    await expectFilter(`${URN.user}:name.givenName sw "car"`, [u.carol]);
  });

  it('POST /Users/.search takes the same filter, and a filter on groups.value finds the members', async () => {
    const group = await c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `fg-${uid()}`, members: [{ value: u.bob }] });
    expect(group.statusCode, group.body).toBe(201);
    const res = await c.post('/scim/v2/Users/.search', { schemas: [URN.search], filter: `groups.value eq "${group.json().id}"`, startIndex: 1, count: 10 });
    expect(res.statusCode, res.body).toBe(200);
    expect(ids(res)).toEqual([u.bob]);
  });

  it('sortBy and sortOrder, ascending by default; an unknown sortBy is a 400', async () => {
    const asc = await c.get('/scim/v2/Users?sortBy=name.familyName');
    expect(asc.statusCode, asc.body).toBe(200);
    expect(ids(asc)).toEqual([u.alice, u.bob, u.carol]);
    expect(ids(await c.get('/scim/v2/Users?sortBy=userName&sortOrder=descending'))).toEqual([u.carol, u.bob, u.alice]);
    expect(ids(await c.get('/scim/v2/Users?sortBy=displayName&sortOrder=ascending&count=2'))).toEqual([u.alice, u.bob]);
    expect(ids(await c.get(`/scim/v2/Users?sortBy=${encodeURIComponent(`${URN.enterprise}:employeeNumber`)}&sortOrder=descending`))).toEqual([u.carol, u.bob, u.alice]);
    expectScimError(await c.get('/scim/v2/Users?sortBy=nosuchattribute'), 400, 'invalidValue');
    expectScimError(await c.get('/scim/v2/Users?sortBy=userName&sortOrder=sideways'), 400, 'invalidValue');
  });
});

describe('index paging', () => {
  it('count=0 answers totalResults only; numbers are integers; pages are stable and disjoint', async () => {
    const c = await ownClient();
    for (let i = 0; i < 7; i++) await createScimUser(c, `page-${i}-${uid()}@x.com`);
    const countOnly = await c.get('/scim/v2/Users?count=0');
    expect(countOnly.statusCode, countOnly.body).toBe(200);
    expect(countOnly.json()).toMatchObject({ totalResults: 7, itemsPerPage: 0, startIndex: 1 });
    expect(countOnly.json().Resources ?? []).toEqual([]);

    const seen: string[] = [];
    for (let start = 1; start <= 7; start += 3) {
      const page = await c.get(`/scim/v2/Users?startIndex=${start}&count=3`);
      const body = page.json();
      expect(typeof body.totalResults).toBe('number');
      expect(typeof body.startIndex).toBe('number');
      expect(typeof body.itemsPerPage).toBe('number');
      expect(body).toMatchObject({ totalResults: 7, startIndex: start, itemsPerPage: Math.min(3, 8 - start) });
      seen.push(...ids(page));
    }
    expect(new Set(seen).size).toBe(7);
    // The same request twice: the same order.
    expect(ids(await c.get('/scim/v2/Users?startIndex=2&count=4'))).toEqual(seen.slice(1, 5));
    // Past the end: an empty page, not an error.
    expect((await c.get('/scim/v2/Users?startIndex=50&count=3')).json()).toMatchObject({ totalResults: 7, itemsPerPage: 0, startIndex: 50 });
  });

  it('startIndex below 1 reads as 1 and a negative count as 0 (RFC 7644 §3.4.2.4)', async () => {
    const c = await ownClient();
    await createScimUser(c, `neg-${uid()}@x.com`);
    const start = await c.get('/scim/v2/Users?startIndex=-5&count=10');
    expect(start.statusCode, start.body).toBe(200);
    expect(start.json()).toMatchObject({ startIndex: 1, itemsPerPage: 1, totalResults: 1 });
    const count = await c.get('/scim/v2/Users?count=-5');
    expect(count.statusCode, count.body).toBe(200);
    expect(count.json()).toMatchObject({ itemsPerPage: 0, totalResults: 1 });
  });
});

describe('cursor paging (RFC 9865)', () => {
  it('cursor= starts a walk; nextCursor continues it; the last page has none', async () => {
    const c = await ownClient();
    for (let i = 0; i < 5; i++) await createScimUser(c, `cur-${i}-${uid()}@x.com`);
    const first = await c.get('/scim/v2/Users?cursor=&count=2');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ totalResults: 5, itemsPerPage: 2, nextCursor: expect.any(String) });
    const seen = ids(first);
    let next: string | undefined = first.json().nextCursor;
    while (next) {
      const page = await c.get(`/scim/v2/Users?cursor=${encodeURIComponent(next)}&count=2`);
      expect(page.statusCode, page.body).toBe(200);
      seen.push(...ids(page));
      next = page.json().nextCursor;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expectScimError(await c.get('/scim/v2/Users?cursor=not-a-cursor&count=2'), 400, 'invalidCursor');
  });

  it('a walk while users are added and deleted misses and repeats none of those present throughout', async () => {
    const c = await ownClient();
    const initial: string[] = [];
    for (let i = 0; i < 24; i++) initial.push((await createScimUser(c, `walk-${String(i).padStart(2, '0')}-${uid()}@x.com`)).id);
    const doomed = new Set(initial.filter((_, i) => i % 5 === 2));
    const stable = initial.filter((id) => !doomed.has(id));
    const toDelete = [...doomed];

    const seen: string[] = [];
    let url = '/scim/v2/Users?cursor=&count=4&sortBy=userName';
    let round = 0;
    for (;;) {
      const page = await c.get(url);
      expect(page.statusCode, page.body).toBe(200);
      seen.push(...ids(page));
      // Between pages: two new users (before and after the position in sort order) and one deletion.
      await createScimUser(c, `walk-00a-${uid()}@x.com`);
      await createScimUser(c, `walk-zz-${uid()}@x.com`);
      const victim = toDelete.shift();
      if (victim) expect((await c.delete(`/scim/v2/Users/${victim}`)).statusCode).toBe(204);
      const next = page.json().nextCursor as string | undefined;
      if (!next || ++round > 40) break;
      url = `/scim/v2/Users?cursor=${encodeURIComponent(next)}&count=4&sortBy=userName`;
    }
    expect(new Set(seen).size, 'no user repeated').toBe(seen.length);
    for (const id of stable) expect(seen, `user ${id} present throughout was missed`).toContain(id);
  });
});

describe('tooMany', () => {
  it('an unpaged list over 1,000 results is a 400 tooMany; the same list paged is served', { timeout: 180_000 }, async () => {
    const origin = `bulk${uid()}`;
    const c = await scimClient(s, { origin, owns: 'all' });
    const existing = (await c.get('/scim/v2/Users?count=0')).json().totalResults as number;
    const missing = Math.max(0, 1001 - existing);
    const prefix = uid();
    for (let i = 0; i < missing; i += 25) {
      const batch = Array.from({ length: Math.min(25, missing - i) }, (_, j) => s.request({ method: 'POST', url: '/v1/users', payload: { userName: `many-${prefix}-${i + j}` } }));
      for (const res of await Promise.all(batch)) expect(res.statusCode, res.body).toBe(201);
    }
    const unpaged = await c.get('/scim/v2/Users');
    expectScimError(unpaged, 400, 'tooMany');
    const paged = await c.get('/scim/v2/Users?startIndex=1&count=50');
    expect(paged.statusCode).toBe(200);
    expect(paged.json().totalResults).toBeGreaterThan(1000);
    expect(paged.json().itemsPerPage).toBe(50);
    // A filter that narrows the list below the limit is served unpaged.
    expect((await c.get(filterUrl('Users', `userName sw "many-${prefix}-10"`))).json().totalResults).toBe(11);
  });
});

describe('attributes and excludedAttributes', () => {
  const full = (userName: string) => ({
    schemas: [URN.user, URN.enterprise], userName, displayName: 'Projected', title: 'T', name: { givenName: 'Pro', familyName: 'Jected' },
    emails: [{ type: 'work', value: 'p@x.example' }], [URN.enterprise]: { department: 'D', costCenter: 'C' },
  });

  it('apply on GET, list, POST, PUT and PATCH; id is always returned', async () => {
    const c = await ownClient();
    const post = await c.post('/scim/v2/Users?attributes=userName', full(`proj-${uid()}@x.com`));
    expect(post.statusCode, post.body).toBe(201);
    const created = post.json();
    expect(created.id).toEqual(expect.any(String));
    expect(created.userName).toEqual(expect.any(String));
    for (const absent of ['displayName', 'title', 'name', 'emails', URN.enterprise]) expect(created, absent).not.toHaveProperty(absent);

    const get = (await c.get(`/scim/v2/Users/${created.id}?attributes=name.givenName,${URN.enterprise}:department`)).json();
    expect(get).toMatchObject({ id: created.id, name: { givenName: 'Pro' }, [URN.enterprise]: { department: 'D' } });
    expect(get.name).not.toHaveProperty('familyName');
    expect(get[URN.enterprise]).not.toHaveProperty('costCenter');
    expect(get).not.toHaveProperty('displayName');

    const excluded = (await c.get(`/scim/v2/Users/${created.id}?excludedAttributes=emails,name,${URN.enterprise}`)).json();
    expect(excluded).toMatchObject({ id: created.id, displayName: 'Projected', title: 'T' });
    for (const absent of ['emails', 'name', URN.enterprise]) expect(excluded, absent).not.toHaveProperty(absent);

    const list = (await c.get(`${filterUrl('Users', `id eq "${created.id}"`)}&attributes=displayName`)).json();
    expect(list.Resources).toEqual([expect.objectContaining({ id: created.id, displayName: 'Projected' })]);
    expect(list.Resources[0]).not.toHaveProperty('title');

    const put = (await c.put(`/scim/v2/Users/${created.id}?excludedAttributes=title`, { ...full(created.userName), title: 'New' })).json();
    expect(put).toMatchObject({ id: created.id, displayName: 'Projected' });
    expect(put).not.toHaveProperty('title');

    const patch = await c.patch(`/scim/v2/Users/${created.id}?attributes=title`, [{ op: 'replace', path: 'title', value: 'Patched' }]);
    expect(patch.statusCode, patch.body).toBe(200);
    expect(patch.json()).toMatchObject({ id: created.id, title: 'Patched' });
    expect(patch.json()).not.toHaveProperty('displayName');
  });

  it('PATCH of a group answers 204, or 200 with the group when attributes or excludedAttributes ask for it', async () => {
    const c = await ownClient();
    const user = await createScimUser(c, `gm-${uid()}@x.com`);
    const group = (await c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `pg-${uid()}` })).json();
    const plain = await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'add', path: 'members', value: [{ value: user.id }] }]);
    expect(plain.statusCode).toBe(204);
    expect(plain.body).toBe('');
    const asked = await c.patch(`/scim/v2/Groups/${group.id}?attributes=members`, [{ op: 'replace', path: 'displayName', value: `pg2-${uid()}` }]);
    expect(asked.statusCode, asked.body).toBe(200);
    expect(asked.json()).toMatchObject({ id: group.id, members: [expect.objectContaining({ value: user.id })] });
    expect(asked.json()).not.toHaveProperty('displayName');
    const excluded = await c.patch(`/scim/v2/Groups/${group.id}?excludedAttributes=members`, [{ op: 'replace', path: 'externalId', value: 'ext-g' }]);
    expect(excluded.statusCode, excluded.body).toBe(200);
    expect(excluded.json()).toMatchObject({ id: group.id, externalId: 'ext-g' });
    expect(excluded.json()).not.toHaveProperty('members');
  });
});

describe('ETags', () => {
  it('If-None-Match answers 304 for the current version; If-Match with an old version is 412 on PUT, PATCH and DELETE', async () => {
    const c = await ownClient();
    const user = await createScimUser(c, `etag-${uid()}@x.com`);
    const got = await c.get(`/scim/v2/Users/${user.id}`);
    const etag = got.headers.etag as string;
    expect(etag).toMatch(/^W\/"\d+"$/);
    expect(got.json().meta.version).toBe(etag);
    const cached = await c.get(`/scim/v2/Users/${user.id}`, { 'if-none-match': etag });
    expect(cached.statusCode).toBe(304);
    expect(cached.body).toBe('');
    expect((await c.get(`/scim/v2/Users/${user.id}`, { 'if-none-match': 'W/"999"' })).statusCode).toBe(200);

    const changed = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'replace', path: 'title', value: 'v2' }], { 'if-match': etag });
    expect(changed.statusCode, changed.body).toBe(200);
    const stale = etag;
    expectScimError(await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'replace', path: 'title', value: 'lost' }], { 'if-match': stale }), 412);
    expectScimError(await c.put(`/scim/v2/Users/${user.id}`, { schemas: [URN.user], userName: user.userName, title: 'lost' }, { 'if-match': stale }), 412);
    expectScimError(await c.delete(`/scim/v2/Users/${user.id}`, { 'if-match': stale }), 412);
    const now = (await c.get(`/scim/v2/Users/${user.id}`)).json();
    expect(now.title).toBe('v2');
    expect(now.meta.version).toBe(changed.headers.etag);
    expect((await c.delete(`/scim/v2/Users/${user.id}`, { 'if-match': changed.headers.etag as string })).statusCode).toBe(204);
  });

  it('groups: If-None-Match 304, If-Match 412 on PATCH, PUT and DELETE', async () => {
    const c = await ownClient();
    const created = await c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `eg-${uid()}` });
    const group = created.json();
    const etag = created.headers.etag as string;
    expect((await c.get(`/scim/v2/Groups/${group.id}`, { 'if-none-match': etag })).statusCode).toBe(304);
    expect((await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'replace', path: 'displayName', value: `eg2-${uid()}` }], { 'if-match': etag })).statusCode).toBe(204);
    expectScimError(await c.patch(`/scim/v2/Groups/${group.id}`, [{ op: 'replace', path: 'displayName', value: 'lost' }], { 'if-match': etag }), 412);
    expectScimError(await c.put(`/scim/v2/Groups/${group.id}`, { schemas: [URN.group], displayName: 'lost' }, { 'if-match': etag }), 412);
    expectScimError(await c.delete(`/scim/v2/Groups/${group.id}`, { 'if-match': etag }), 412);
    expect((await c.get(`/scim/v2/Groups/${group.id}`)).json().displayName).not.toBe('lost');
  });
});

describe('errors', () => {
  it('carry the SCIM error body with the RFC scimType', async () => {
    const c = await ownClient();
    const user = await createScimUser(c, `err-${uid()}@x.com`);
    const url = `/scim/v2/Users/${user.id}`;
    expectScimError(await c.get(filterUrl('Users', 'userName eq')), 400, 'invalidFilter');
    expectScimError(await c.get(filterUrl('Users', 'userName zz "x"')), 400, 'invalidFilter');
    expectScimError(await c.get(filterUrl('Users', 'nosuchattribute eq "x"')), 400, 'invalidFilter');
    expectScimError(await c.patch(url, [{ op: 'replace', path: 'emails[type eq', value: 'x' }]), 400, 'invalidPath');
    expectScimError(await c.patch(url, [{ op: 'replace', path: 'nosuchattribute', value: 'x' }]), 400, 'invalidPath');
    expectScimError(await c.patch(url, [{ op: 'remove' }]), 400, 'noTarget');
    expectScimError(await c.patch(url, [{ op: 'replace', path: 'emails[type eq "fax"]', value: { value: 'fax@x.example' } }]), 400, 'noTarget');
    expectScimError(await c.patch(url, [{ op: 'replace', path: 'id', value: crypto.randomUUID() }]), 400, 'mutability');
    expectScimError(await c.patch(url, [{ op: 'replace', path: 'active', value: 'maybe' }]), 400, 'invalidValue');
    expectScimError(await c.request({ method: 'PATCH', url, payload: { schemas: [URN.patch] } }), 400, 'invalidSyntax');
    expectScimError(await c.post('/scim/v2/Users', { schemas: [URN.user], userName: user.userName.toUpperCase() }), 409, 'uniqueness');
    const name = `dup-${uid()}`;
    expect((await c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: name })).statusCode).toBe(201);
    expectScimError(await c.post('/scim/v2/Groups', { schemas: [URN.group], displayName: name }), 409, 'uniqueness');
    const other = await createScimUser(c, `err2-${uid()}@x.com`);
    expectScimError(await c.patch(`/scim/v2/Users/${other.id}`, [{ op: 'replace', path: 'userName', value: user.userName }]), 409, 'uniqueness');
  });

  it('404 for an unknown or malformed id on every method', async () => {
    const c = await ownClient();
    for (const id of [crypto.randomUUID(), 'not-an-id', '%F0%9F%98%80']) {
      for (const resource of ['Users', 'Groups']) {
        const url = `/scim/v2/${resource}/${id}`;
        expectScimError(await c.get(url), 404);
        expectScimError(await c.put(url, resource === 'Users' ? { schemas: [URN.user], userName: 'x' } : { schemas: [URN.group], displayName: 'x' }), 404);
        expectScimError(await c.patch(url, [{ op: 'replace', path: 'displayName', value: 'x' }]), 404);
        expectScimError(await c.delete(url), 404);
      }
    }
  });

  it('401 without a valid token, 403 without the scim scope, 415 for a text/plain body', async () => {
    const noToken = await s.t.request({ method: 'GET', url: '/scim/v2/Users' });
    expectScimError(noToken, 401);
    expectScimError(await s.t.request({ method: 'GET', url: '/scim/v2/Users', token: 'rst_not-a-real-token' }), 401);
    const reader = await s.request({ method: 'POST', url: '/v1/api-tokens', payload: { name: s.unique('reader'), scopes: ['users:read'] } });
    const token = reader.json().token as string;
    expectScimError(await s.t.request({ method: 'GET', url: '/scim/v2/Users', token }), 403);
    expectScimError(await s.t.request({ method: 'POST', url: '/scim/v2/Users', token, payload: { schemas: [URN.user], userName: `no-${uid()}` } }), 403);
    const c = await ownClient();
    const plain = await c.request({ method: 'POST', url: '/scim/v2/Users', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify({ schemas: [URN.user], userName: `tp-${uid()}` }) });
    expectScimError(plain, 415);
    expect((await c.get('/scim/v2/Users?count=0')).json().totalResults).toBe(0);
  });
});

describe('credential origin and ownership', () => {
  it('two origins each keep their own externalId on the same user', async () => {
    const entra = await scimClient(s, { origin: `entra${uid()}`, owns: 'all' });
    const okta = await scimClient(s, { origin: `okta${uid()}`, owns: 'all' });
    const user = await createScimUser(entra, `two-${uid()}@x.com`, { externalId: 'E-1' });
    expect(user.externalId).toBe('E-1');
    expect((await okta.get(`/scim/v2/Users/${user.id}`)).json()).not.toHaveProperty('externalId');
    const set = await okta.patch(`/scim/v2/Users/${user.id}`, [{ op: 'add', path: 'externalId', value: 'O-1' }]);
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().externalId).toBe('O-1');
    expect((await entra.get(`/scim/v2/Users/${user.id}`)).json().externalId).toBe('E-1');
    // A PUT from one origin without externalId leaves the other's alone.
    const put = await entra.put(`/scim/v2/Users/${user.id}`, { schemas: [URN.user], userName: user.userName, externalId: 'E-2' });
    expect(put.statusCode, put.body).toBe(200);
    expect((await okta.get(`/scim/v2/Users/${user.id}`)).json().externalId).toBe('O-1');
    expect(ids(await okta.get(filterUrl('Users', 'externalId eq "O-1"')))).toEqual([user.id]);
    expect(ids(await okta.get(filterUrl('Users', 'externalId eq "E-2"')))).toEqual([]);
    const native = (await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).json();
    expect(native.externalIds).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'E-2' }), expect.objectContaining({ key: 'O-1' })]));
  });

  it('an "own" credential gets 404 for users and groups it did not provision, and lists leave them out', async () => {
    const mine = await ownClient();
    const other = await ownClient();
    const nativeUser = (await s.request({ method: 'POST', url: '/v1/users', payload: { userName: `native-${uid()}` } })).json();
    const otherUser = await createScimUser(other, `theirs-${uid()}@x.com`);
    const otherGroup = (await other.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `theirs-${uid()}` })).json();
    for (const [id, userName] of [[nativeUser.id, nativeUser.userName], [otherUser.id, otherUser.userName]] as [string, string][]) {
      const url = `/scim/v2/Users/${id}`;
      expectScimError(await mine.get(url), 404);
      expectScimError(await mine.put(url, { schemas: [URN.user], userName, title: 'taken over' }), 404);
      expectScimError(await mine.patch(url, [{ op: 'replace', path: 'active', value: false }]), 404);
      expectScimError(await mine.delete(url), 404);
      expect((await mine.get(filterUrl('Users', `userName eq "${userName}"`))).json().totalResults).toBe(0);
    }
    expectScimError(await mine.get(`/scim/v2/Groups/${otherGroup.id}`), 404);
    expectScimError(await mine.patch(`/scim/v2/Groups/${otherGroup.id}`, [{ op: 'replace', path: 'displayName', value: 'taken' }]), 404);
    expectScimError(await mine.delete(`/scim/v2/Groups/${otherGroup.id}`), 404);
    expect((await mine.get('/scim/v2/Groups?count=0')).json().totalResults).toBe(0);
    // Nothing changed.
    const native = (await s.request({ method: 'GET', url: `/v1/users/${nativeUser.id}` })).json();
    expect(native).toMatchObject({ status: 'active', version: nativeUser.version });
    expect((await other.get(`/scim/v2/Users/${otherUser.id}`)).json()).toMatchObject({ active: true, meta: { version: otherUser.meta.version } });
    // A group member that is not its own is refused too, not silently added.
    const myGroup = (await mine.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `mine-${uid()}` })).json();
    const sneak = await mine.patch(`/scim/v2/Groups/${myGroup.id}`, [{ op: 'add', path: 'members', value: [{ value: otherUser.id }] }]);
    expect(sneak.statusCode, sneak.body).toBeGreaterThanOrEqual(400);
    expect(sneak.statusCode).toBeLessThan(500);
    expect((await mine.get(`/scim/v2/Groups/${myGroup.id}`)).json().members ?? []).toEqual([]);
  });

  it('onDelete "suspend" makes DELETE suspend the user', async () => {
    const c = await scimClient(s, { origin: `sus${uid()}`, owns: 'own', onDelete: 'suspend' });
    const user = await createScimUser(c, `suspend-${uid()}@x.com`);
    expect((await c.delete(`/scim/v2/Users/${user.id}`)).statusCode).toBe(204);
    expect((await s.request({ method: 'GET', url: `/v1/users/${user.id}` })).json().status).toBe('suspended');
    expect((await c.get(`/scim/v2/Users/${user.id}`)).json().active).toBe(false);
  });

  it("another tenant's credential sees none of this tenant's users or groups", async () => {
    const tenant = `t${uid()}`.slice(0, 30);
    expect((await s.request({ method: 'POST', url: '/v1/tenants', payload: { id: tenant, name: tenant } })).statusCode).toBe(201);
    const client = (await s.request({ method: 'POST', url: '/v1/clients', payload: { name: 'tenant admin', scopes: ['admin'], tenantId: tenant } })).json();
    const issued = (await s.t.request({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret } })).json();
    const foreign = await scimClient(s, { origin: 'entra', owns: 'all' }, issued.access_token);
    const home = await scimClient(s, { origin: 'entra', owns: 'all' });
    const user = await createScimUser(home, `home-${uid()}@x.com`);
    const group = (await home.post('/scim/v2/Groups', { schemas: [URN.group], displayName: `home-${uid()}` })).json();
    expectScimError(await foreign.get(`/scim/v2/Users/${user.id}`), 404);
    expectScimError(await foreign.patch(`/scim/v2/Users/${user.id}`, [{ op: 'replace', path: 'active', value: false }]), 404);
    expectScimError(await foreign.delete(`/scim/v2/Users/${user.id}`), 404);
    expectScimError(await foreign.get(`/scim/v2/Groups/${group.id}`), 404);
    expect((await foreign.get(filterUrl('Users', `userName eq "${user.userName}"`))).json().totalResults).toBe(0);
    // The same userName is free in the other tenant.
    expect((await foreign.post('/scim/v2/Users', { schemas: [URN.user], userName: user.userName })).statusCode).toBe(201);
    expect((await home.get(`/scim/v2/Users/${user.id}`)).json()).toMatchObject({ active: true, meta: { version: user.meta.version } });
  });
});

describe('SCIM changes in the native API and history', () => {
  it('are the same user, with the token as actor; a PATCH that changes nothing keeps the version and writes no event', async () => {
    const c = await ownClient();
    const user = await createScimUser(c, `hist-${uid()}@x.com`, { title: 'First' });
    const patched = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'replace', path: 'title', value: 'Second' }]);
    const native = await s.request({ method: 'GET', url: `/v1/users/${user.id}` });
    expect(native.json()).toMatchObject({ id: user.id, userName: user.userName, title: 'Second' });
    expect(native.headers.etag).toBe(patched.headers.etag);

    const history = async () => {
      const res = await s.request({ method: 'GET', url: `/v1/users/${user.id}/history` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().items as { type: string; actor: { type: string; id: string } }[];
    };
    const events = await history();
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const event of events) expect(event.actor).toEqual({ type: 'api_token', id: c.id });

    const same = await c.patch(`/scim/v2/Users/${user.id}`, [{ op: 'replace', path: 'title', value: 'Second' }, { op: 'add', path: 'userName', value: user.userName }]);
    expect(same.statusCode, same.body).toBe(200);
    expect(same.json().meta.version).toBe(patched.json().meta.version);
    expect(await history()).toHaveLength(events.length);
    const samePut = await c.put(`/scim/v2/Users/${user.id}`, same.json() as Record<string, unknown>);
    expect(samePut.statusCode, samePut.body).toBe(200);
    expect(samePut.json().meta.version).toBe(patched.json().meta.version);
    expect(await history()).toHaveLength(events.length);
  });
});
