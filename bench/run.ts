/**
 * `npm run bench`: starts Roster (the built server) on a fresh SQLite database in a child
 * process, loads users through the API and drives the hottest paths with autocannon from this
 * process. Prints a table and writes bench/results/<date>.json. Not a test: numbers vary by
 * machine; the point is to see them and to notice regressions.
 *
 * Options (env): BENCH_USERS (100000), BENCH_SECONDS (15 per read scenario),
 * BENCH_CONNECTIONS (32), BENCH_DATABASE_URL (default: a temp SQLite file), BENCH_ONLY (`native`,
 * `scim` or `bulk`: only those scenarios after the load; default all three, bulk last since it
 * adds several hundred thousand users), BENCH_CPU_PROF (a directory: the server runs with
 * `node --cpu-prof` and writes its profile there when it stops). The SCIM and bulk scenarios and
 * their knobs are in scim-scenarios.ts and bulk-scenarios.ts.
 *
 * After the load it creates 50 groups and 20 roles (API) and puts every user in 3 groups and 2
 * roles, written straight into the database in one transaction (there is no bulk membership
 * API yet, and 500,000 single requests would dominate the run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { encodeListCursor } from '../src/filter/list-cursor.js';
import { bulkScenarios, type BulkFigure } from './bulk-scenarios.js';
import { scimScenarios, type Comparison, type Row } from './scim-scenarios.js';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PORT = 18_000 + Math.floor(Math.random() * 1000);
const BASE = `http://127.0.0.1:${PORT}`;
const CLIENT_ID = 'bench-admin';
const CLIENT_SECRET = 'bench-admin-secret-0123456789';
const GROUPS = 50;
const ROLES = 20;
const ONLY = process.env.BENCH_ONLY ?? '';
if (!['', 'native', 'scim', 'bulk'].includes(ONLY)) throw new Error(`BENCH_ONLY is native, scim or bulk, not ${ONLY}`);
const CPU_PROF = process.env.BENCH_CPU_PROF;
// The machine is shared: the 1/5/15-minute load averages at the start say how quiet the run was.
const LOAD_AT_START = loadavg().map((l) => Math.round(l * 100) / 100);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-'));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `sqlite:${join(dir, 'bench.db')}`;
  const server = startServer(databaseUrl);
  const rows: Row[] = [];
  let comparisons: Comparison[] = [];
  let figures: BulkFigure[] = [];
  try {
    await waitUntilReady();
    const token = await getToken();
    const auth = { authorization: `Bearer ${token}` };
    const jsonAuth = { ...auth, 'content-type': 'application/json' };

    let n = 0;
    rows.push(
      await run('POST /v1/users (load)', {
        amount: USERS,
        requests: [{ setupRequest: (req) => ({ ...req, method: 'POST', path: '/v1/users', headers: jsonAuth, body: JSON.stringify(userBody(n++)) }) }],
      }),
    );

    const ids = await sampleIds(token, 2000);
    const names = ids.map((_, i) => `user${Math.floor((i * USERS) / ids.length)}@bench.example`);
    const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T;
    const database = databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';

    const bulk = async () => {
      const result = await bulkScenarios({ base: BASE, token: getToken, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      rows.push(...result.rows);
      figures = result.figures;
    };
    if (ONLY === 'bulk') {
      await bulk();
      report(rows, database, [], figures);
      return;
    }
    if (ONLY === 'scim') {
      const scim = await scimScenarios({ base: BASE, adminToken: token, seconds: SECONDS, users: USERS, ids, names, run, userBody });
      report([...rows, ...scim.rows], database, scim.comparisons);
      return;
    }

    rows.push(await run('GET /v1/users/{id}', { duration: SECONDS, requests: [{ setupRequest: (req) => ({ ...req, headers: auth, path: `/v1/users/${pick(ids)}` })}] }));
    rows.push(
      await run("GET /v1/users?$filter=userName eq '…'", {
        duration: SECONDS,
        requests: [{ setupRequest: (req) => ({ ...req, headers: auth, path: `/v1/users?$filter=${encodeURIComponent(`userName eq '${pick(names)}'`)}` }) }],
      }),
    );
    const marks = await idsEvery1000(token, Math.floor(USERS * 0.9));
    const deepCursor = cursorAfter(marks.at(-1) as string, 50);
    rows.push(
      await run('GET /v1/users?cursor=<90% deep>&$top=50', {
        duration: SECONDS,
        requests: [{ setupRequest: (req) => ({ ...req, headers: auth, path: `/v1/users?$top=50&cursor=${encodeURIComponent(deepCursor)}` }) }],
      }),
    );
    const cursors = marks.map((id) => cursorAfter(id, 100));

    const groupNames = await loadMemberships(token, databaseUrl);
    // Pages all over the table: the first one and one after every 1000 users.
    const pages = ['', ...cursors.map((c) => `&cursor=${encodeURIComponent(c)}`)];
    const expand = encodeURIComponent('groups($select=name),roles($select=name)');
    const expandPage = { setupRequest: (req: autocannon.Request) => ({ ...req, headers: auth, path: `/v1/users?$top=100&$expand=${expand}${pick(pages)}` }) };
    const groupFilter = {
      setupRequest: (req: autocannon.Request) => ({ ...req, headers: auth, path: `/v1/users?$top=50&$filter=${encodeURIComponent(`groups/any(g: g/name eq '${pick(groupNames)}')`)}` }),
    };
    // With every connection busy a request mostly waits for the ones ahead of it (one process,
    // one SQLite connection): the 1-connection rows show what one request itself costs.
    for (const connections of [CONNECTIONS, 1]) {
      const suffix = connections === CONNECTIONS ? '' : ` (${connections} connection)`;
      rows.push(await run(`GET /v1/users?$top=100&$expand=groups,roles${suffix}`, { duration: SECONDS, connections, requests: [expandPage] }));
      rows.push(await run(`GET /v1/users?$filter=groups/any(g: g/name eq '…')&$top=50${suffix}`, { duration: SECONDS, connections, requests: [groupFilter] }));
    }
    if (ONLY !== 'native') {
      const scim = await scimScenarios({ base: BASE, adminToken: token, seconds: SECONDS, users: USERS, ids, names, run, userBody });
      rows.push(...scim.rows);
      comparisons = scim.comparisons;
    }
    if (ONLY === '') await bulk();
    report(rows, database, comparisons, figures);
  } finally {
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

function userBody(i: number) {
  return {
    email: `user${i}@bench.example`,
    givenName: `Given${i % 997}`,
    familyName: `Family${i % 1009}`,
    department: `Dept${i % 50}`,
    employeeId: `E${i}`,
    externalIds: [{ origin: 'hr', key: String(i) }],
    attributes: { level: i % 10 },
  };
}

function startServer(databaseUrl: string): ChildProcess {
  const profile = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, 'dist/cli/main.js', 'serve'], {
    env: { ...process.env, PORT: String(PORT), DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', ROSTER_ADMIN_CLIENT_ID: CLIENT_ID, ROSTER_ADMIN_CLIENT_SECRET: CLIENT_SECRET },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (code !== null && code !== 0) console.error(`server exited with ${code ?? signal}`);
  });
  return child;
}

async function waitUntilReady(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${BASE}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not become ready');
}

async function getToken(): Promise<string> {
  const res = await fetch(`${BASE}/v1/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function getJson<T>(token: string, path: string): Promise<T> {
  const res = await fetch(`${BASE}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Ids spread over the whole table: every (USERS/count)-th user. */
async function sampleIds(token: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const step = Math.max(1, Math.floor(USERS / count));
  for (let i = 0; i < count && i * step < USERS; i++) {
    const body = await getJson<{ items: { id: string }[] }>(token, `/v1/users?$filter=${encodeURIComponent(`employeeId eq 'E${i * step}'`)}&$select=id`);
    if (body.items[0]) ids.push(body.items[0].id);
  }
  return ids;
}

/** Walks keyset pages of 1000 (in id order) up to `position`, keeping the last id of each page. */
async function idsEvery1000(token: string, position: number): Promise<string[]> {
  let cursor: string | null = null;
  const ids: string[] = [];
  for (let seen = 0; seen < position; seen += 1000) {
    const page: { items: { id: string }[]; nextCursor: string | null } = await getJson(token, `/v1/users?$top=1000&$select=id${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const last = page.items.at(-1);
    if (!page.nextCursor || !last) break;
    cursor = page.nextCursor;
    ids.push(last.id);
  }
  if (ids.length === 0) throw new Error('could not reach a deep position');
  return ids;
}

/**
 * The nextCursor `GET /v1/users?$top=<size>` would hand out after user `id` (default order: by
 * id). A cursor is bound to its whole query, page size included, so the pages walked above
 * (1,000 ids each) cannot be reused for pages of 50 or 100; the bench builds the cursor with the
 * server's own encoder instead of walking 1,800 pages of 50.
 */
function cursorAfter(id: string, size: number): string {
  return encodeListCursor('users', { sort: [], page: { size }, count: false }, { values: [], id });
}

async function postJson<T>(token: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${BASE}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * 50 groups and 20 roles through the API, then every user in 3 groups and 2 roles, inserted
 * directly (one transaction) next to the running server. Returns the group names.
 */
async function loadMemberships(token: string, databaseUrl: string): Promise<string[]> {
  const started = Date.now();
  process.stdout.write(`memberships (${GROUPS} groups, ${ROLES} roles, 3 + 2 per user) … `);
  const groups: { id: string; name: string }[] = [];
  for (let i = 0; i < GROUPS; i++) groups.push(await postJson(token, '/v1/groups', { name: `Group ${String(i).padStart(2, '0')}` }));
  const roles: { id: string }[] = [];
  for (let i = 0; i < ROLES; i++) roles.push(await postJson(token, '/v1/roles', { name: `Role ${String(i).padStart(2, '0')}`, weight: i * 5 }));
  const now = new Date().toISOString();
  // User i: groups i, i+17, i+34 and roles i, i+7 (mod the counts): distinct, evenly spread.
  const groupsOf = (i: number) => [0, 17, 34].map((o) => groups[(i + o) % GROUPS]?.id as string);
  const rolesOf = (i: number) => [0, 7].map((o) => roles[(i + o) % ROLES]?.id as string);
  let rows = 0;
  if (databaseUrl.startsWith('sqlite:')) {
    const db = new SqliteDatabase(databaseUrl.slice('sqlite:'.length));
    db.pragma('busy_timeout = 10000');
    const users = db.prepare('select id, tenant_id from users order by id').all() as { id: string; tenant_id: string }[];
    const addGroup = db.prepare('insert into user_groups (tenant_id, user_id, group_id, created_at) values (?, ?, ?, ?)');
    const addRole = db.prepare('insert into user_roles (tenant_id, user_id, role_id, created_at) values (?, ?, ?, ?)');
    db.transaction(() => {
      users.forEach((u, i) => {
        for (const g of groupsOf(i)) addGroup.run(u.tenant_id, u.id, g, now);
        for (const r of rolesOf(i)) addRole.run(u.tenant_id, u.id, r, now);
        rows += 5;
      });
    })();
    db.pragma('optimize');
    db.close();
  } else {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const users = (await client.query<{ id: string; tenant_id: string }>('select id, tenant_id from users order by id')).rows;
      await client.query('begin');
      for (let start = 0; start < users.length; start += 5000) {
        const chunk = users.slice(start, start + 5000);
        const index = chunk.map((_, k) => start + k);
        const expand = (of: (i: number) => string[]) => chunk.flatMap((u, k) => of(index[k] as number).map((target) => [u.tenant_id, u.id, target]));
        for (const [table, column, list] of [['user_groups', 'group_id', expand(groupsOf)], ['user_roles', 'role_id', expand(rolesOf)]] as const) {
          await client.query(
            `insert into ${table} (tenant_id, user_id, ${column}, created_at) select t, u, x, $4 from unnest($1::text[], $2::text[], $3::text[]) as v(t, u, x)`,
            [list.map((r) => r[0]), list.map((r) => r[1]), list.map((r) => r[2]), now],
          );
          rows += list.length;
        }
      }
      await client.query('commit');
      await client.query('analyze');
    } finally {
      await client.end();
    }
  }
  console.log(`${rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return groups.map((g) => g.name);
}

async function run(scenario: string, options: Partial<autocannon.Options>): Promise<Row> {
  process.stdout.write(`${scenario} … `);
  const result = await autocannon({ url: BASE, connections: CONNECTIONS, ...options } as autocannon.Options);
  const row: Row = {
    scenario,
    requests: result.requests.total,
    rps: Math.round(result.requests.total / (result.duration || 1)),
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.mean,
    max: result.latency.max,
    errors: result.errors,
    non2xx: result.non2xx,
  };
  console.log(`${row.rps} req/s, p99 ${row.p99} ms${row.non2xx || row.errors ? `, ${row.non2xx} non-2xx, ${row.errors} errors` : ""}`);
  return row;
}

function report(rows: Row[], database: string, comparisons: Comparison[], figures: BulkFigure[] = []): void {
  console.log(`\nRoster benchmark: ${USERS} users, ${database}, ${CONNECTIONS} connections, ${cpus().length} cores, Node ${process.version}\n`);
  console.table(rows.map((r) => ({ scenario: r.scenario, 'req/s': r.rps, 'p50 ms': r.p50, 'p99 ms': r.p99, 'max ms': r.max, requests: r.requests, errors: r.errors + r.non2xx })));
  if (comparisons.length > 0) {
    console.log('\nSCIM against native (req/s; ratio = SCIM / native)\n');
    console.table(comparisons.map((c) => ({ what: c.what, 'SCIM req/s': c.scim, 'native req/s': c.native ?? '–', ratio: c.ratio ?? '–', note: c.note })));
  }
  if (figures.length > 0) {
    console.log('\nBulk and sync (issue 9)\n');
    console.table(figures.map((f) => ({ what: f.what, value: `${f.value} ${f.unit}`, 'p50 ms': f.p50 ?? '–', 'p99 ms': f.p99 ?? '–', calls: f.calls ?? '–', target: f.target ?? '' })));
  }
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${new Date().toISOString().slice(0, 10)}-${database}${ONLY ? `-${ONLY}` : ''}.json`;
  const result = { date: new Date().toISOString(), users: USERS, database, connections: CONNECTIONS, cores: cpus().length, node: process.version, loadAverage: { start: LOAD_AT_START, end: loadavg().map((l) => Math.round(l * 100) / 100) }, rows, ...(comparisons.length > 0 ? { comparisons } : {}), ...(figures.length > 0 ? { bulk: figures } : {}) };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nWritten to ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
