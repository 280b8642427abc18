/**
 * The SCIM scenarios of `npm run bench` (issue 8): each SCIM request next to the native request
 * that does the same work, in the same run and on the same table, so the SCIM/native ratio is
 * measured under the same load. Called by run.ts after the users are loaded.
 *
 * Knobs (env): BENCH_GROUP_MEMBERS (10000: the size of the group the member PATCH grows),
 * BENCH_GROUP_PATCHES (100: PATCHes of 100 new members each), BENCH_BULKS (10: /Bulk requests of
 * 1,000 creates each).
 */
import type autocannon from 'autocannon';

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const GROUP_MEMBERS = Number(process.env.BENCH_GROUP_MEMBERS ?? 10_000);
const GROUP_PATCHES = Number(process.env.BENCH_GROUP_PATCHES ?? 100);
const BULKS = Number(process.env.BENCH_BULKS ?? 10);
const BULK_SIZE = 1000;

/** One scenario's figures, as run.ts prints and stores them. */
export interface Row {
  scenario: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Mean latency, ms: with 1 connection, 1000 / mean is the rate without autocannon's 1 s sampling tail. */
  mean?: number;
  max: number;
  errors: number;
  non2xx: number;
}

/** A SCIM scenario against its native twin: `ratio` is SCIM req/s over native req/s. */
export interface Comparison {
  what: string;
  scim: number;
  native: number | null;
  ratio: number | null;
  note: string;
}

/** What the scenarios need from run.ts. */
export interface ScimBenchContext {
  base: string;
  adminToken: string;
  seconds: number;
  /** How many users the load created (user<i>@bench.example, i < users). */
  users: number;
  /** Ids spread over the table, and the userName of each. */
  ids: string[];
  names: string[];
  run: (scenario: string, options: Partial<autocannon.Options>) => Promise<Row>;
  userBody: (i: number) => Record<string, unknown>;
}

/** Runs the SCIM scenarios and their native twins; returns the rows and the comparisons. */
export async function scimScenarios(ctx: ScimBenchContext): Promise<{ rows: Row[]; comparisons: Comparison[] }> {
  const rows: Row[] = [];
  const comparisons: Comparison[] = [];
  const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T;
  const admin = { authorization: `Bearer ${ctx.adminToken}` };
  const token = await scimToken(ctx);
  const scim = { authorization: `Bearer ${token}` };
  const scimJson = { ...scim, 'content-type': 'application/scim+json' };
  const compare = (what: string, s: Row, n: Row | null, note = '') => {
    comparisons.push({ what, scim: s.rps, native: n?.rps ?? null, ratio: n ? round(s.rps / n.rps) : null, note });
  };

  // Creates: new users after the loaded ones, native and SCIM with the same fields.
  let next = ctx.users;
  const nativeCreate = await ctx.run('POST /v1/users', {
    duration: ctx.seconds,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'POST', path: '/v1/users', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify(ctx.userBody(next++)) }) }],
  });
  const scimCreate = await ctx.run('POST /scim/v2/Users', {
    duration: ctx.seconds,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'POST', path: '/scim/v2/Users', headers: scimJson, body: JSON.stringify(scimUser(next++)) }) }],
  });
  rows.push(nativeCreate, scimCreate);
  compare('create', scimCreate, nativeCreate, 'target ≥ 0.8 and ≥ 3,000/s, p99 < 50 ms');

  const nativeFilter = await ctx.run("GET /v1/users?$filter=userName eq '…'", {
    duration: ctx.seconds,
    requests: [{ setupRequest: (req) => ({ ...req, headers: admin, path: `/v1/users?$filter=${encodeURIComponent(`userName eq '${pick(ctx.names)}'`)}` }) }],
  });
  const scimFilter = await ctx.run('GET /scim/v2/Users?filter=userName eq "…"', {
    duration: ctx.seconds,
    requests: [{ setupRequest: (req) => ({ ...req, headers: scim, path: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${pick(ctx.names)}"`)}` }) }],
  });
  rows.push(nativeFilter, scimFilter);
  compare('filter userName eq', scimFilter, nativeFilter, 'target ≥ 0.8 and ≥ 10,000/s, p99 < 50 ms');

  // A new title every time: a PATCH that changes nothing writes nothing and would flatter both.
  let title = 0;
  const nativePatch = await ctx.run('PATCH /v1/users/{id} {title}', {
    duration: ctx.seconds,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'PATCH', path: `/v1/users/${pick(ctx.ids)}`, headers: { ...admin, 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ title: `Title ${title++}` }) }) }],
  });
  const scimPatch = await ctx.run('PATCH /scim/v2/Users/{id} replace title', {
    duration: ctx.seconds,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          method: 'PATCH',
          path: `/scim/v2/Users/${pick(ctx.ids)}`,
          headers: scimJson,
          body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: `Title ${title++}` }] }),
        }),
      },
    ],
  });
  rows.push(nativePatch, scimPatch);
  compare('PATCH replace title', scimPatch, nativePatch);

  const group = await groupPatch(ctx, token, scimJson);
  if (group) {
    rows.push(group);
    compare(`group PATCH +100 members (${GROUP_MEMBERS}-member group)`, group, null, `${perSecond(group, 100)} memberships/s at 1 connection; no native twin (native adds one member per request)`);
  }

  const bulk = await bulkCreates(ctx, scimJson);
  if (bulk) {
    rows.push(bulk);
    compare(`/Bulk of ${BULK_SIZE} creates`, bulk, null, `${perSecond(bulk, BULK_SIZE)} users/s at 1 connection; target ≥ 10,000 users/s`);
  }
  return { rows, comparisons };
}

/** A SCIM credential as an identity provider would hold one: origin "bench", all users. */
async function scimToken(ctx: ScimBenchContext): Promise<string> {
  const body = await send<{ token: string }>(ctx.base, ctx.adminToken, 'POST', '/v1/api-tokens', { name: 'bench-scim', scopes: ['scim'], origin: 'bench', owns: 'all' });
  return body.token;
}

/**
 * Builds a group of GROUP_MEMBERS through SCIM (PATCHes of 1,000 members), then measures PATCHes
 * that each add 100 members not yet in it (the group grows by 100 per request: 10,000 → 20,000
 * by default). Null when the table has too few users for it.
 */
async function groupPatch(ctx: ScimBenchContext, token: string, headers: Record<string, string>): Promise<Row | null> {
  const needed = GROUP_MEMBERS + GROUP_PATCHES * 100;
  if (ctx.users < needed) {
    console.log(`group PATCH skipped: needs ${needed} users (BENCH_USERS), has ${ctx.users}`);
    return null;
  }
  const started = Date.now();
  process.stdout.write(`group of ${GROUP_MEMBERS} members (SCIM PATCHes of 1,000) … `);
  const ids = await allUserIds(ctx, needed);
  const group = await send<{ id: string }>(ctx.base, token, 'POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Bench big group' });
  const addMembers = (members: string[]) => ({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members.map((value) => ({ value })) }] });
  for (let i = 0; i < GROUP_MEMBERS; i += 1000) await send(ctx.base, token, 'PATCH', `/scim/v2/Groups/${group.id}`, addMembers(ids.slice(i, Math.min(i + 1000, GROUP_MEMBERS))));
  console.log(`${((Date.now() - started) / 1000).toFixed(1)} s`);
  let offset = GROUP_MEMBERS;
  // One connection: PATCHes of one group queue on its row anyway, so more would only add waiting.
  return ctx.run(`PATCH /scim/v2/Groups/{id} add 100 members (${GROUP_MEMBERS}+, 1 connection)`, {
    amount: GROUP_PATCHES,
    connections: 1,
    requests: [
      {
        setupRequest: (req) => {
          const members = ids.slice(offset, offset + 100);
          offset += 100;
          return { ...req, method: 'PATCH', path: `/scim/v2/Groups/${group.id}`, headers, body: JSON.stringify(addMembers(members)) };
        },
      },
    ],
  });
}

/**
 * /Bulk requests of 1,000 user creates, one connection (a provisioning client sends them one
 * after another). Skipped with a message while the server has no /Bulk (404 or 405).
 */
async function bulkCreates(ctx: ScimBenchContext, headers: Record<string, string>): Promise<Row | null> {
  let n = 0;
  const bulkBody = () => ({
    schemas: [BULK_REQUEST],
    Operations: Array.from({ length: BULK_SIZE }, (_, k) => ({ method: 'POST', path: '/Users', bulkId: `b${k}`, data: scimUser(`bulk${n}-${k}`) })),
  });
  // autocannon writes content-length into the headers objects it is given: send a clean copy.
  const probeHeaders = { authorization: headers.authorization as string, 'content-type': 'application/scim+json' };
  const probe = await fetch(`${ctx.base}/scim/v2/Bulk`, { method: 'POST', headers: probeHeaders, body: JSON.stringify({ schemas: [BULK_REQUEST], Operations: [{ method: 'POST', path: '/Users', bulkId: 'probe', data: scimUser('bulk-probe') }] }) });
  if (probe.status === 404 || probe.status === 405) {
    console.log(`POST /scim/v2/Bulk skipped: the server answers ${probe.status} (no /Bulk yet)`);
    return null;
  }
  const body = (await probe.json()) as { Operations?: { status?: string }[] };
  if (probe.status !== 200 || body.Operations?.[0]?.status !== '201') throw new Error(`/Bulk probe: ${probe.status} ${JSON.stringify(body).slice(0, 500)}`);
  return ctx.run(`POST /scim/v2/Bulk (${BULK_SIZE} creates each, 1 connection)`, {
    amount: BULKS,
    connections: 1,
    requests: [
      {
        setupRequest: (req) => {
          n++;
          return { ...req, method: 'POST', path: '/scim/v2/Bulk', headers, body: JSON.stringify(bulkBody()) };
        },
      },
    ],
  });
}

/** The same user as run.ts's userBody, as a SCIM User: work email as userName, the HR number. */
function scimUser(i: number | string) {
  const k = typeof i === 'number' ? i : 0;
  return {
    schemas: [CORE, ENTERPRISE],
    userName: `scim${i}@bench.example`,
    externalId: `ext-${i}`,
    active: true,
    name: { givenName: `Given${k % 997}`, familyName: `Family${k % 1009}` },
    emails: [{ value: `scim${i}@bench.example`, type: 'work', primary: true }],
    [ENTERPRISE]: { employeeNumber: `S${i}`, department: `Dept${k % 50}` },
  };
}

/** The first `count` user ids in id order (keyset pages of 1,000). */
async function allUserIds(ctx: ScimBenchContext, count: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  while (ids.length < count) {
    const page: { items: { id: string }[]; nextCursor: string | null } = await send(ctx.base, ctx.adminToken, 'GET', `/v1/users?$top=1000&$select=id${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    ids.push(...page.items.map((u) => u.id));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return ids.slice(0, count);
}

async function send<T>(base: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** Items per second of a 1-connection run: from the mean latency (a short `amount` run's req/s includes up to 1 s of sampling tail). */
function perSecond(row: Row, itemsPerRequest: number): number {
  return Math.round((itemsPerRequest * 1000) / (row.mean || 1));
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
