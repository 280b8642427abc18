import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { nativeUser, scimCaller, scimCreatedUser, type ScimCaller } from '../helpers/scim-client.js';
import { useApiSuite } from '../helpers/test-app.js';

// A second attack pass (brief G) on the latest SCIM changes: RFC 9865 previousCursor, Bulk runs of
// POST /Users created together, If-Match lists, owns "own" visibility and filter value checks.
// Tests that fail here expose defects and are listed in the pass's report.

const s = useApiSuite();
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

type Options = Parameters<typeof s.request>[0];
type Scim = (options: Options) => ReturnType<typeof s.request>;

const scimClient = (settings: Record<string, unknown>) => scimCaller(s, settings);
const hrUser = () => nativeUser(s);
const scimUser = (scim: ScimCaller, extra: Record<string, unknown> = {}) => scimCreatedUser(s, scim, extra);

const q = (params: Record<string, string | number | undefined>) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');

interface Page {
  ids: string[];
  next?: string;
  previous?: string;
}

async function page(scim: Scim, params: Record<string, string | number | undefined>): Promise<Page> {
  const res = await scim({ method: 'GET', url: `/scim/v2/Users?${q(params)}` });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json();
  return { ids: (body.Resources ?? []).map((r: { id: string }) => r.id), next: body.nextCursor, previous: body.previousCursor };
}

/** Walks forward from the first page, then backward from the last with previousCursor. */
async function walk(scim: Scim, params: Record<string, string | number | undefined>, between?: (step: number) => Promise<void>) {
  const forward: string[][] = [];
  let current = await page(scim, { ...params, cursor: '' });
  expect(current.previous).toBeUndefined();
  forward.push(current.ids);
  for (let step = 0; current.next; step++) {
    await between?.(step);
    current = await page(scim, { ...params, cursor: current.next });
    forward.push(current.ids);
    expect(forward.length).toBeLessThan(100);
  }
  const backward: string[][] = [];
  while (current.previous) {
    await between?.(-1);
    current = await page(scim, { ...params, cursor: current.previous });
    backward.push(current.ids);
    expect(backward.length).toBeLessThan(100);
  }
  return { forward: forward.flat(), backward: backward.reverse().flat(), lastPage: forward.at(-1) ?? [] };
}

const decode = (cursor: string) => JSON.parse(inflateRawSync(Buffer.from(cursor, 'base64url')).toString('utf8')) as Record<string, unknown>;
const encode = (payload: Record<string, unknown>) => deflateRawSync(Buffer.from(JSON.stringify(payload), 'utf8')).toString('base64url');

describe('previousCursor (RFC 9865)', () => {
  /** 17 users of one credential: 5 without a title, 8 tied on "Same", the rest distinct and mixed case. */
  async function population() {
    const scim = await scimClient({ origin: s.unique('pg'), owns: 'own' });
    const titles = [undefined, 'Same', 'b', 'Same', undefined, 'A', 'Same', 'same', undefined, 'Same', 'c', 'Same', undefined, 'Same', 'Zed', 'Same', undefined];
    const ids: string[] = [];
    for (const title of titles) ids.push(await scimUser(scim, title === undefined ? {} : { title }));
    return { scim, ids };
  }

  it.each([
    ['title ascending', { sortBy: 'title' }],
    ['title descending', { sortBy: 'title', sortOrder: 'descending' }],
    ['userName descending', { sortBy: 'userName', sortOrder: 'descending' }],
    ['no sortBy', {}],
    ['a filter with a NULL-heavy sort', { sortBy: 'title', filter: 'not (title eq "A")' }],
  ])('%s: backward visits exactly what forward did, in the same order', async (_name, params) => {
    const { scim, ids } = await population();
    for (const count of [1, 3, 4, 17, 20]) {
      const { forward, backward, lastPage } = await walk(scim, { ...params, count });
      const expected = 'filter' in params ? ids.length - 1 : ids.length;
      expect(new Set(forward).size, `count ${count}`).toBe(expected);
      expect(forward).toHaveLength(expected);
      // The walk back starts at the last page and ends at the first: every page before it, in order.
      expect([...backward, ...lastPage], `count ${count}`).toEqual(forward);
    }
  });

  it('a walk with deletes and inserts between pages neither repeats nor loses users present throughout', async () => {
    const { scim, ids } = await population();
    const deleted = new Set<string>();
    let n = 0;
    const between = async (step: number) => {
      // Delete one not-yet-seen user and insert two (one with a title, one without) at every step.
      const victim = ids[(7 * (n + 1)) % ids.length] as string;
      n++;
      if (!deleted.has(victim)) {
        expect((await scim({ method: 'DELETE', url: `/scim/v2/Users/${victim}` })).statusCode).toBe(204);
        deleted.add(victim);
      }
      await scimUser(scim, step % 2 === 0 ? { title: 'Same' } : {});
      await scimUser(scim);
    };
    for (const params of [{ sortBy: 'title' }, { sortBy: 'title', sortOrder: 'descending' }]) {
      const { forward, backward, lastPage } = await walk(scim, { ...params, count: 3 }, between);
      expect(new Set(forward).size, 'forward repeats').toBe(forward.length);
      const all = [...backward, ...lastPage];
      expect(new Set(all).size, 'backward repeats').toBe(all.length);
      for (const id of ids.filter((x) => !deleted.has(x))) {
        expect(forward, 'forward lost a user present throughout').toContain(id);
        expect(all, 'backward lost a user present throughout').toContain(id);
      }
    }
  });

  it('a previousCursor sent with another count, filter, sortBy or sortOrder is 400 invalidCursor', async () => {
    const { scim } = await population();
    const first = await page(scim, { sortBy: 'title', count: 3, cursor: '' });
    const second = await page(scim, { sortBy: 'title', count: 3, cursor: first.next });
    expect(second.previous).toBeTruthy();
    for (const params of [
      { sortBy: 'title', count: 4 },
      { sortBy: 'title', count: 3, filter: 'title pr' },
      { sortBy: 'userName', count: 3 },
      { sortBy: 'title', sortOrder: 'descending', count: 3 },
      { count: 3 },
    ]) {
      const res = await scim({ method: 'GET', url: `/scim/v2/Users?${q({ ...params, cursor: second.previous })}` });
      expect(res.statusCode, JSON.stringify(params)).toBe(400);
      expect(res.json()).toMatchObject({ status: '400', scimType: 'invalidCursor' });
    }
    const same = await page(scim, { sortBy: 'title', count: 3, cursor: second.previous });
    expect(same.ids).toEqual(first.ids);
  });

  it('forged direction markers and positions are 400 invalidCursor, never a 500', async () => {
    const { scim } = await population();
    const first = await page(scim, { sortBy: 'title', count: 3, cursor: '' });
    const next = decode(first.next as string);
    expect(next.b).toBeUndefined();
    const bad = [
      { ...next, b: 0 },
      { ...next, b: 2 },
      { ...next, b: true },
      { ...next, b: '1' },
      { ...next, b: null },
      { ...next, b: 1, k: [5] },
      { ...next, b: 1, k: [{}] },
      { ...next, b: 1, k: [] },
      { ...next, b: 1, i: '' },
      { ...next, b: 1, x: 1 },
    ];
    for (const forged of bad) {
      const res = await scim({ method: 'GET', url: `/scim/v2/Users?${q({ sortBy: 'title', count: 3, cursor: encode(forged) })}` });
      expect(res.statusCode, JSON.stringify(forged)).toBe(400);
      expect(res.json().scimType).toBe('invalidCursor');
    }
    // A well-formed flip is only a page before that position: rows of this credential, no error.
    const flipped = await page(scim, { sortBy: 'title', count: 3, cursor: encode({ ...next, b: 1 }) });
    expect(flipped.ids).toEqual(first.ids.slice(0, 2));
    // A position value of the wrong type for userName (never NULL) is refused too.
    const byName = decode((await page(scim, { sortBy: 'userName', count: 3, cursor: '' })).next as string);
    for (const k of [[null], [7], [true]]) {
      const res = await scim({ method: 'GET', url: `/scim/v2/Users?${q({ sortBy: 'userName', count: 3, cursor: encode({ ...byName, b: 1, k }) })}` });
      expect(res.statusCode, JSON.stringify(k)).toBe(400);
      expect(res.json().scimType).toBe('invalidCursor');
    }
  });

  it('a previousCursor on Groups walks back too', async () => {
    const scim = await scimClient({ origin: s.unique('gp'), owns: 'own' });
    for (let i = 0; i < 7; i++) expect((await scim({ method: 'POST', url: '/scim/v2/Groups', payload: { displayName: `${s.unique('g')}-${i % 2 ? 'A' : 'a'}` } })).statusCode).toBe(201);
    const res1 = await scim({ method: 'GET', url: '/scim/v2/Groups?cursor=&count=2&sortBy=displayName&sortOrder=descending' });
    const seen: string[] = res1.json().Resources.map((r: { id: string }) => r.id);
    let cursor = res1.json().nextCursor as string | undefined;
    let body = res1.json();
    while (cursor) {
      body = (await scim({ method: 'GET', url: `/scim/v2/Groups?cursor=${cursor}&count=2&sortBy=displayName&sortOrder=descending` })).json();
      seen.push(...body.Resources.map((r: { id: string }) => r.id));
      cursor = body.nextCursor;
    }
    expect(new Set(seen).size).toBe(7);
    const back: string[] = [];
    let prev = body.previousCursor as string | undefined;
    while (prev) {
      const b = (await scim({ method: 'GET', url: `/scim/v2/Groups?cursor=${prev}&count=2&sortBy=displayName&sortOrder=descending` })).json();
      back.unshift(...b.Resources.map((r: { id: string }) => r.id));
      prev = b.previousCursor;
    }
    expect([...back, ...body.Resources.map((r: { id: string }) => r.id)]).toEqual(seen);
  });

  it('the native API given a SCIM previousCursor answers 400 request.invalid_cursor or a page of that query, never a 500', async () => {
    const { scim } = await population();
    const first = await page(scim, { sortBy: 'title', count: 3, cursor: '' });
    const second = await page(scim, { sortBy: 'title', count: 3, cursor: first.next });
    for (const cursor of [second.previous as string, second.next as string]) {
      const res = await s.request({ method: 'GET', url: `/v1/users?cursor=${encodeURIComponent(cursor)}` });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().code).toBe('request.invalid_cursor');
    }
    // A native nextCursor given to SCIM: another query language, same table; refused, not a 500.
    const native = await s.request({ method: 'GET', url: '/v1/users?$top=1' });
    const res = await scim({ method: 'GET', url: `/scim/v2/Users?${q({ count: 1, cursor: native.json().nextCursor })}` });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().scimType).toBe('invalidCursor');
  });
});

// ---------------------------------------------------------------------------------------------

const post = (bulkId: string, data: Record<string, unknown>) => ({ method: 'POST', path: '/Users', bulkId, data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], ...data } });

interface BulkOut {
  method: string;
  bulkId?: string;
  status: string;
  location?: string;
  version?: string;
  response?: { scimType?: string; detail?: string; status?: string };
}

async function bulk(scim: Scim, operations: unknown[], extra: Record<string, unknown> = {}): Promise<BulkOut[]> {
  const res = await scim({ method: 'POST', url: '/scim/v2/Bulk', payload: { schemas: [BULK], Operations: operations, ...extra } });
  expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
  return res.json().Operations as BulkOut[];
}

const idOf = (op: BulkOut) => (op.location as string).split('/').pop() as string;

async function lastEventPosition(): Promise<number> {
  const res = await s.request({ method: 'GET', url: '/v1/events?$top=1' });
  expect(res.statusCode, res.body).toBe(200);
  return Number(res.json().items[0]?.position ?? 0);
}

async function createdEventsAfter(position: number): Promise<string[]> {
  const ids: string[] = [];
  let url: string | undefined = `/v1/events?after=${position}&type=user.created&$top=1000`;
  while (url) {
    const res = await s.request({ method: 'GET', url });
    expect(res.statusCode, res.body).toBe(200);
    ids.push(...res.json().items.map((e: { resource: { id: string } }) => e.resource.id));
    const next = res.json().nextCursor as string | null;
    url = next && res.json().items.length > 0 ? `/v1/events?cursor=${encodeURIComponent(next)}` : undefined;
  }
  return ids;
}

describe('Bulk runs of POST /Users', () => {
  it('duplicates within a run, collisions with stored users, bad rows in the middle: statuses in request order, one event per created user', async () => {
    const origin = s.unique('bk');
    const scim = await scimClient({ origin, owns: 'all' });
    const stored = `${s.unique('stored')}@x.com`;
    expect((await s.request({ method: 'POST', url: '/v1/users', payload: { userName: stored } })).statusCode).toBe(201);
    const base = s.unique('dup');
    const ext = s.unique('ext');
    const before = await lastEventPosition();
    const ops = [
      post('a', { userName: `${base}@x.com`, password: 'correct horse battery staple 1' }),
      post('b', { userName: `${base.toUpperCase()}@X.COM` }),
      post('c', { userName: `${base.replace(/^d/, '\uff44')}@x.com` }),
      post('d', { userName: stored.toUpperCase() }),
      post('e', { userName: `${s.unique('e')}@x.com`, externalId: ext }),
      post('f', { userName: `${s.unique('f')}@x.com`, externalId: ext }),
      post('g', { userName: `${s.unique('g')}@x.com`, active: 'maybe' }),
      post('h', { userName: 42 }),
      post('i', { userName: `${s.unique('i')}@x.com`, [ENTERPRISE]: { manager: { value: '00000000-0000-7000-8000-000000000000' } } }),
      post('j', { userName: `${s.unique('j')}@x.com`, emails: [{ value: stored, primary: true }] }),
      post('k', { displayName: 'no userName' }),
      post('l', { userName: `${s.unique('l')}@x.com`, title: 'ok' }),
    ];
    const out = await bulk(scim, ops);
    expect(out.map((o) => o.bulkId)).toEqual(ops.map((o) => o.bulkId));
    const status = Object.fromEntries(out.map((o) => [o.bulkId, o.status]));
    expect(status).toMatchObject({ a: '201', b: '409', c: '409', d: '409', e: '201', f: '409', i: '400', j: '201', k: '400', l: '201' });
    expect(['400']).toContain(status.g);
    expect(['400']).toContain(status.h);
    for (const o of out.filter((x) => x.status === '409')) expect(o.response?.scimType).toBe('uniqueness');
    const created = out.filter((o) => o.status === '201').map(idOf);
    expect((await createdEventsAfter(before)).sort()).toEqual([...created].sort());
    for (const id of created) expect((await scim({ method: 'GET', url: `/scim/v2/Users/${id}` })).statusCode).toBe(200);
    // The password was stored: the event says so, and the user exists once.
    const a = out.find((o) => o.bulkId === 'a') as BulkOut;
    const history = await s.request({ method: 'GET', url: `/v1/events?resourceId=${idOf(a)}` });
    expect(history.json().items.map((e: { type: string }) => e.type).sort()).toEqual(['user.created', 'user.password_changed']);
  });

  it('a row refused because an earlier row of the run took its userName goes through when that earlier row itself fails (as one by one)', async () => {
    const scim = await scimClient({ origin: s.unique('bk'), owns: 'all' });
    const seed = s.unique('seedext');
    expect((await bulk(scim, [post('s', { userName: `${s.unique('s')}@x.com`, externalId: seed })]))[0]?.status).toBe('201');
    const name = `${s.unique('twice')}@x.com`;
    // Row 1 fails at insert (its externalId is stored already); row 2 then has a free userName.
    const out = await bulk(scim, [post('one', { userName: name, externalId: seed }), post('two', { userName: name.toUpperCase() })]);
    expect(out.map((o) => o.status)).toEqual(['409', '201']);
    // The same, one by one, for comparison.
    const name2 = `${s.unique('twice')}@x.com`;
    const one = await scim({ method: 'POST', url: '/scim/v2/Users', payload: { userName: name2, externalId: seed } });
    const two = await scim({ method: 'POST', url: '/scim/v2/Users', payload: { userName: name2.toUpperCase() } });
    expect([one.statusCode, two.statusCode]).toEqual([409, 201]);
  });

  it('an externalId refused as repeated goes through when the row holding it first fails on its stored userName', async () => {
    const scim = await scimClient({ origin: s.unique('bk'), owns: 'all' });
    const stored = `${s.unique('st')}@x.com`;
    expect((await s.request({ method: 'POST', url: '/v1/users', payload: { userName: stored } })).statusCode).toBe(201);
    const ext = s.unique('ext');
    const out = await bulk(scim, [post('one', { userName: stored, externalId: ext }), post('two', { userName: `${s.unique('n')}@x.com`, externalId: ext })]);
    expect(out.map((o) => o.status)).toEqual(['409', '201']);
  });

  it('managers: an existing user is accepted, an unknown or another tenant\'s is 400, an "own" credential cannot use an HR user', async () => {
    const all = await scimClient({ origin: s.unique('bk'), owns: 'all' });
    const own = await scimClient({ origin: s.unique('bo'), owns: 'own' });
    const hr = await hrUser();
    const mine = await scimUser(own);
    const tenant = s.unique('t').toLowerCase();
    expect((await s.request({ method: 'POST', url: '/v1/tenants', payload: { id: tenant, name: tenant } })).statusCode).toBe(201);
    const client = await s.request({ method: 'POST', url: '/v1/clients', payload: { name: 'other', tenantId: tenant, scopes: ['scim'], owns: 'all' } });
    const token = await s.t.token(client.json().clientId, client.json().clientSecret);
    const other = (options: Options) => s.request({ ...options, token, headers: { 'content-type': 'application/scim+json' } });
    const foreign = await scimUser(other);
    const m = (v: unknown) => ({ [ENTERPRISE]: { manager: v } });
    const outAll = await bulk(all, [
      post('1', { userName: `${s.unique('m')}@x.com`, ...m({ value: hr }) }),
      post('2', { userName: `${s.unique('m')}@x.com`, ...m(hr) }),
      post('3', { userName: `${s.unique('m')}@x.com`, ...m({ value: foreign }) }),
      post('4', { userName: `${s.unique('m')}@x.com`, ...m({ value: 'not-a-uuid' }) }),
      post('5', { userName: `${s.unique('m')}@x.com`, ...m({ value: 'HR' }) }),
      post('6', { userName: `${s.unique('m')}@x.com`, ...m({ value: hr.toUpperCase() }) }),
      post('7', { userName: `${s.unique('m')}@x.com` }),
    ]);
    expect(outAll.map((o) => o.status)).toEqual(['201', '201', '400', '400', '400', '201', '201']);
    for (const o of outAll.filter((x) => x.status === '400')) expect(o.response?.scimType).toBe('invalidValue');
    const six = await s.request({ method: 'GET', url: `/v1/users/${idOf(outAll[5] as BulkOut)}` });
    expect(six.json().managerId).toBe(hr);
    const outOwn = await bulk(own, [
      post('1', { userName: `${s.unique('m')}@x.com`, ...m({ value: hr }) }),
      post('2', { userName: `${s.unique('m')}@x.com`, ...m({ value: mine }) }),
      post('3', { userName: `${s.unique('m')}@x.com`, ...m({ value: hr.toUpperCase() }) }),
      post('4', { userName: `${s.unique('m')}@x.com`, ...m({ value: foreign }) }),
    ]);
    expect(outOwn.map((o) => o.status)).toEqual(['400', '201', '400', '400']);
  });

  it('1,000 operations in one request: all created, in order, one event each', async () => {
    const scim = await scimClient({ origin: s.unique('big'), owns: 'own' });
    const base = s.unique('k');
    const before = await lastEventPosition();
    const ops = Array.from({ length: 1000 }, (_, i) => post(`b${i}`, { userName: `${base}-${i}@x.com`, ...(i % 250 === 7 ? { userName: `${base}-${i - 1}@X.com` } : {}), externalId: `${base}-${i}` }));
    const out = await bulk(scim, ops);
    expect(out).toHaveLength(1000);
    expect(out.map((o) => o.bulkId)).toEqual(ops.map((o) => o.bulkId));
    const failed = out.filter((o) => o.status !== '201').map((o) => o.bulkId);
    expect(failed).toEqual(['b7', 'b257', 'b507', 'b757']);
    const created = out.filter((o) => o.status === '201').map(idOf);
    expect(new Set(created).size).toBe(996);
    expect((await createdEventsAfter(before)).sort()).toEqual([...created].sort());
    const listed = await scim({ method: 'GET', url: '/scim/v2/Users?count=0' });
    expect(listed.json().totalResults).toBe(996);
  });

  it('failOnErrors with runs: stops after that many errors, lists only what ran', async () => {
    const scim = await scimClient({ origin: s.unique('foe'), owns: 'own' });
    const base = s.unique('f');
    const ops = [
      post('1', { userName: `${base}-1@x.com` }),
      post('2', { userName: `${base}-1@X.com` }),
      post('3', { userName: `${base}-3@x.com` }),
      post('4', { userName: `${base}-3@x.com` }),
      post('5', { userName: `${base}-5@x.com` }),
    ];
    const out = await bulk(scim, ops, { failOnErrors: 2 });
    expect(out.map((o) => [o.bulkId, o.status])).toEqual([['1', '201'], ['2', '409'], ['3', '201'], ['4', '409']]);
    expect((await scim({ method: 'GET', url: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${base}-5@x.com"`)}` })).json().totalResults).toBe(0);
  });

  it('parallel Bulk requests creating the same userNames (in other orders and case): exactly one wins each name, never a 500', async () => {
    const scim = await scimClient({ origin: s.unique('par'), owns: 'own' });
    const base = s.unique('p');
    const names = Array.from({ length: 40 }, (_, i) => `${base}-${i}@x.com`);
    const requests = Array.from({ length: 6 }, (_, r) => {
      const order = r % 2 === 0 ? names : [...names].reverse();
      return scim({ method: 'POST', url: '/scim/v2/Bulk', payload: { schemas: [BULK], Operations: order.map((n, i) => post(`r${r}-${i}`, { userName: r % 3 === 0 ? n.toUpperCase() : n })) } });
    });
    const responses = await Promise.all(requests);
    for (const res of responses) expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const ops = responses.flatMap((r) => r.json().Operations as BulkOut[]);
    expect(ops.filter((o) => !['201', '409'].includes(o.status))).toEqual([]);
    expect(ops.filter((o) => o.status === '201')).toHaveLength(40);
    const listed = await scim({ method: 'GET', url: '/scim/v2/Users?count=0' });
    expect(listed.json().totalResults).toBe(40);
  });
});

// ---------------------------------------------------------------------------------------------

describe('If-Match lists on users and groups, and in Bulk version', () => {
  const cases: [string, string, boolean][] = [
    ['W/"1", W/"2"', 'list with the version', true],
    ['W/"2", W/"1"', 'list with the version last', true],
    ['"1"', 'strong tag of the version', true],
    ['W/"2",W/"3"', 'list without the version', false],
    ['garbage', 'garbage', false],
    ['', 'empty', false],
    [' , ', 'empty members', false],
    ['*', 'star', true],
    ['W/"1", *', 'star in a list', true],
    [Array.from({ length: 100 }, (_, i) => `W/"${i + 2}"`).join(', '), '100 tags without the version', false],
    [Array.from({ length: 100 }, (_, i) => `W/"${100 - i}"`).join(', '), '100 tags with the version', true],
    ['W/"99999999999999999999"', 'a version beyond any integer', false],
    ['W/"1" garbage', 'trailing junk', false],
  ];

  it.each(cases)('If-Match %j (%s) on user PATCH/PUT/DELETE and group PATCH/PUT/DELETE', async (header, _label, passes) => {
    const scim = await scimClient({ origin: s.unique('im'), owns: 'own' });
    const requests = async () => {
      const user = await scimUser(scim);
      const group = (await scim({ method: 'POST', url: '/scim/v2/Groups', payload: { displayName: s.unique('g') } })).json().id as string;
      return [
        { method: 'PATCH', url: `/scim/v2/Users/${user}`, payload: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'x' }] } },
        { method: 'PUT', url: `/scim/v2/Users/${user}`, payload: { userName: `${s.unique('put')}@x.com` } },
        { method: 'DELETE', url: `/scim/v2/Users/${user}` },
        { method: 'PATCH', url: `/scim/v2/Groups/${group}`, payload: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: s.unique('h') }] } },
        { method: 'PUT', url: `/scim/v2/Groups/${group}`, payload: { displayName: s.unique('h') } },
        { method: 'DELETE', url: `/scim/v2/Groups/${group}` },
      ] as Options[];
    };
    for (const req of await requests()) {
      const fresh = (await requests()).find((r) => r.method === req.method && (r.url as string).split('/')[3] === (req.url as string).split('/')[3]) as Options;
      const res = await scim({ ...fresh, headers: { 'if-match': header } });
      if (passes) expect([200, 204], `${fresh.method} ${fresh.url} ${res.body}`).toContain(res.statusCode);
      else {
        expect(res.statusCode, `${fresh.method} ${fresh.url} ${res.body}`).toBe(412);
        expect(res.json()).toMatchObject({ status: '412' });
      }
    }
  });

  it.each(cases)('Bulk version %j (%s) on PATCH and DELETE of users and groups', async (header, _label, passes) => {
    const scim = await scimClient({ origin: s.unique('bv'), owns: 'own' });
    const user = await scimUser(scim);
    const user2 = await scimUser(scim);
    const group = (await scim({ method: 'POST', url: '/scim/v2/Groups', payload: { displayName: s.unique('g') } })).json().id as string;
    const group2 = (await scim({ method: 'POST', url: '/scim/v2/Groups', payload: { displayName: s.unique('g') } })).json().id as string;
    const out = await bulk(scim, [
      { method: 'PATCH', path: `/Users/${user}`, version: header, data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'x' }] } },
      { method: 'DELETE', path: `/Users/${user2}`, version: header },
      { method: 'PATCH', path: `/Groups/${group}`, version: header, data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: s.unique('h') }] } },
      { method: 'DELETE', path: `/Groups/${group2}`, version: header },
    ]);
    if (passes) expect(out.map((o) => o.status)).toEqual(['200', '204', '200', '204']);
    else expect(out.map((o) => o.status)).toEqual(['412', '412', '412', '412']);
  });

  it('concurrent PATCHes with the same If-Match list: exactly one wins', async () => {
    const scim = await scimClient({ origin: s.unique('cim'), owns: 'own' });
    const user = await scimUser(scim);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => scim({ method: 'PATCH', url: `/scim/v2/Users/${user}`, headers: { 'if-match': 'W/"9", W/"1", "5"' }, payload: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: `t${i}` }] } })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 412, 412, 412, 412, 412, 412, 412]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('owns "own": what the credential did not provision stays invisible', () => {
  async function setting() {
    const own = await scimClient({ origin: s.unique('own'), owns: 'own' });
    const all = await scimClient({ origin: s.unique('all'), owns: 'all' });
    const hr = await hrUser();
    const mine = await scimUser(own);
    return { own, all, hr, mine };
  }

  async function managedByHr() {
    const ctx = await setting();
    const set = await ctx.all({ method: 'PATCH', url: `/scim/v2/Users/${ctx.mine}`, payload: { schemas: [PATCH], Operations: [{ op: 'replace', path: `${ENTERPRISE}:manager`, value: ctx.hr }] } });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()[ENTERPRISE]?.manager?.value).toBe(ctx.hr);
    return ctx;
  }

  it('a manager set by someone else is not shown to the "own" credential (GET, list)', async () => {
    const { own, hr, mine } = await managedByHr();
    expect((await own({ method: 'GET', url: `/scim/v2/Users/${mine}` })).body).not.toContain(hr);
    expect((await own({ method: 'GET', url: '/scim/v2/Users?count=10' })).body).not.toContain(hr);
  });

  it.each([`${ENTERPRISE}:manager.value eq "{hr}"`, 'manager.value eq "{hr}"', 'manager eq "{hr}"'])('a manager set by someone else is not filterable by the "own" credential: %s', async (template) => {
    const { own, all, hr } = await managedByHr();
    const filter = template.replace('{hr}', hr);
    const found = await own({ method: 'GET', url: `/scim/v2/Users?filter=${encodeURIComponent(filter)}` });
    expect(found.statusCode, found.body).toBe(200);
    expect(found.json().totalResults, filter).toBe(0);
    expect((await all({ method: 'GET', url: `/scim/v2/Users?filter=${encodeURIComponent(filter)}` })).json().totalResults, filter).toBe(1);
  });

  it('a manager set by someone else is not removable by the "own" credential', async () => {
    const { own, hr, mine } = await managedByHr();
    const removed = await own({ method: 'PATCH', url: `/scim/v2/Users/${mine}`, payload: { schemas: [PATCH], Operations: [{ op: 'remove', path: `${ENTERPRISE}:manager` }] } });
    expect([200, 400]).toContain(removed.statusCode);
    expect((await s.request({ method: 'GET', url: `/v1/users/${mine}` })).json().managerId).toBe(hr);
  });

  async function inTheirGroup() {
    const ctx = await setting();
    const theirs = await ctx.all({ method: 'POST', url: '/scim/v2/Groups', payload: { displayName: s.unique('theirs'), members: [{ value: ctx.mine }] } });
    expect(theirs.statusCode, theirs.body).toBe(201);
    const gid = theirs.json().id as string;
    expect((await ctx.own({ method: 'GET', url: `/scim/v2/Groups/${gid}` })).statusCode).toBe(404);
    return { ...ctx, gid };
  }

  it('a group someone else made is not shown in the groups of the "own" credential\'s user', async () => {
    const { own, mine, gid } = await inTheirGroup();
    expect((await own({ method: 'GET', url: `/scim/v2/Users/${mine}` })).body).not.toContain(gid);
    expect((await own({ method: 'GET', url: '/scim/v2/Users?count=10&attributes=groups' })).body).not.toContain(gid);
  });

  it('a group someone else made does not find the "own" credential\'s users by groups.value', async () => {
    const { own, all, gid } = await inTheirGroup();
    const found = await own({ method: 'GET', url: `/scim/v2/Users?filter=${encodeURIComponent(`groups.value eq "${gid}"`)}` });
    expect(found.statusCode, found.body).toBe(200);
    expect(found.json().totalResults).toBe(0);
    const byAll = await all({ method: 'GET', url: `/scim/v2/Users?filter=${encodeURIComponent(`groups.value eq "${gid}"`)}` });
    expect(byAll.json().totalResults).toBe(1);
  });

  it('hidden members of its own group: not listed anywhere, not removable by filter, value array or PUT, and not settable', async () => {
    const { own, all, hr, mine } = await setting();
    const group = (await own({ method: 'POST', url: '/scim/v2/Groups', payload: { displayName: s.unique('g'), members: [{ value: mine }] } })).json();
    expect((await all({ method: 'PATCH', url: `/scim/v2/Groups/${group.id}`, payload: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: hr }] }] } })).statusCode).toBe(204);
    const listings = [
      `/scim/v2/Groups?filter=${encodeURIComponent(`displayName eq "${group.displayName}"`)}`,
      `/scim/v2/Groups?attributes=members`,
      `/scim/v2/Groups?cursor=&count=5`,
      `/scim/v2/Groups/${group.id}?attributes=members`,
    ];
    for (const url of listings) {
      const res = await own({ method: 'GET', url });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.body, url).not.toContain(hr);
    }
    const search = await own({ method: 'POST', url: '/scim/v2/Groups/.search', payload: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: `members[value eq "${hr}"]` } });
    expect(search.json().totalResults).toBe(0);
    const notMine = await own({ method: 'GET', url: `/scim/v2/Groups?filter=${encodeURIComponent(`not (members.value ne "${hr}")`)}` });
    expect(notMine.statusCode, notMine.body).toBe(200);
    expect(notMine.body).not.toContain(group.id);
    for (const op of [
      { op: 'remove', path: `members[value eq "${hr}"]` },
      { op: 'remove', path: 'members', value: [{ value: hr }] },
      { op: 'remove', path: 'members' },
    ]) {
      const res = await own({ method: 'PATCH', url: `/scim/v2/Groups/${group.id}`, payload: { schemas: [PATCH], Operations: [op] } });
      expect([204, 400], JSON.stringify(op)).toContain(res.statusCode);
    }
    const put = await own({ method: 'PUT', url: `/scim/v2/Groups/${group.id}`, payload: { displayName: group.displayName, members: [] } });
    expect(put.statusCode, put.body).toBe(200);
    const bulkOut = await bulk(own, [{ method: 'PATCH', path: `/Groups/${group.id}`, data: { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${hr}"]` }] } }]);
    expect(['204', '200', '400']).toContain(bulkOut[0]?.status);
    const native = await s.request({ method: 'GET', url: `/v1/groups/${group.id}/members` });
    expect(native.json().items.map((m: { id: string }) => m.id)).toContain(hr);
    const addByPut = await own({ method: 'PUT', url: `/scim/v2/Groups/${group.id}`, payload: { displayName: group.displayName, members: [{ value: hr }] } });
    expect(addByPut.statusCode).toBe(400);
    const addByBulk = await bulk(own, [{ method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: s.unique('g'), members: [{ value: hr }] } }]);
    expect(addByBulk[0]?.status).toBe('400');
    const managerByBulk = await bulk(own, [{ method: 'PATCH', path: `/Users/${mine}`, data: { schemas: [PATCH], Operations: [{ op: 'replace', path: `${ENTERPRISE}:manager`, value: hr }] } }]);
    expect(managerByBulk[0]?.status).toBe('400');
  });
});

// ---------------------------------------------------------------------------------------------

describe('filter values checked in SCIM terms', () => {
  const users: [string, number][] = [
    ['userName eq true', 400],
    ['userName eq null', 200],
    ['userName gt 5', 400],
    ['displayName co 1.5', 400],
    ['title sw false', 400],
    ['name.givenName eq 3', 400],
    ['active eq "TRUE"', 200],
    ['active eq 1', 400],
    ['active gt "yes"', 400],
    ['meta.created gt 2020', 400],
    ['meta.created gt "2020-13-45T00:00:00Z"', 400],
    ['meta.lastModified ge "2020-01-01T00:00:00Z"', 200],
    ['meta.lastModified lt true', 400],
    ['emails[value eq 5]', 400],
    ['emails[primary eq "yes"]', 400],
    ['emails[primary eq true]', 200],
    ['emails[type eq "work" and value ew 7]', 400],
    ['emails.value co 5', 400],
    ['addresses[type eq "work"].postalCode eq 12345', 400],
    ['addresses[postalCode eq "12345"]', 200],
    ['phoneNumbers[type eq "mobile"].value eq "+1"', 200],
    ['employeeNumber eq 5', 400],
    [`${ENTERPRISE}:employeeNumber eq 5`, 400],
    [`${ENTERPRISE}:employeeNumber eq "5"`, 200],
    [`${ENTERPRISE.toUpperCase()}:department eq 5`, 400],
    ['department eq "x"', 200],
    [`${ENTERPRISE}:manager eq "boss"`, 400],
    ['manager eq "boss"', 400],
    ['manager.value eq 5', 400],
    [`${ENTERPRISE}:manager.value eq "0190a0b2-8d3e-7c4f-9a1b-2c3d4e5f6a7b"`, 200],
    ['id eq "not-a-uuid"', 400],
    ['id eq 5', 400],
    ['groups.value eq 5', 400],
    ['groups[value eq "x"]', 400],
    ['externalId eq 5', 400],
    ['x509Certificates.value eq 5', 400],
    ['not (userName eq 5)', 400],
    ['userName eq "a" or title eq 5', 400],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq 5', 400],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"', 200],
    ['emails[type eq "work"] and userName eq 1e309', 400],
  ];
  it.each(users)('/Users filter %s → %i', async (filter, status) => {
    const scim = await scimClient({ origin: s.unique('fv'), owns: 'all' });
    const res = await scim({ method: 'GET', url: `/scim/v2/Users?count=1&filter=${encodeURIComponent(filter)}` });
    expect(res.statusCode, res.body).toBe(status);
    if (status === 400) expect(res.json().scimType).toBe('invalidFilter');
  });

  const groups: [string, number][] = [
    ['displayName eq 5', 400],
    ['members.value eq 5', 400],
    ['members[value eq "nope"]', 400],
    ['members[value eq true]', 400],
    ['members eq "nope"', 400],
    ['members.display eq 5', 400],
    ['members[value eq "0190a0b2-8d3e-7c4f-9a1b-2c3d4e5f6a7b"]', 200],
    ['meta.created lt "yesterday"', 400],
    ['externalId eq false', 400],
  ];
  // A comparison the mapping refuses (contains on an id) is explained in SCIM terms too.
  it('/Users filter manager.value co "0190" → 400 naming manager.value, not a native field', async () => {
    const scim = await scimClient({ origin: s.unique('fv'), owns: 'all' });
    const res = await scim({ method: 'GET', url: `/scim/v2/Users?count=1&filter=${encodeURIComponent('manager.value co "0190"')}` });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().scimType).toBe('invalidFilter');
    expect(res.json().detail).toMatch(/manager/);
    expect(res.json().detail).not.toMatch(/managerId/);
  });

  it.each(groups)('/Groups filter %s → %i', async (filter, status) => {
    const scim = await scimClient({ origin: s.unique('fv'), owns: 'all' });
    const res = await scim({ method: 'GET', url: `/scim/v2/Groups?filter=${encodeURIComponent(filter)}` });
    expect(res.statusCode, res.body).toBe(status);
    if (status === 400) expect(res.json().scimType).toBe('invalidFilter');
  });
});
