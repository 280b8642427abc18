/**
 * `npm run bench`: starts Roster (the built server) on a fresh SQLite database in a child
 * process, loads users through the API and drives the hottest paths with autocannon from this
 * process. Prints a table and writes bench/results/<date>.json. Not a test: numbers vary by
 * machine; the point is to see them and to notice regressions.
 *
 * Options (env): BENCH_USERS (100000), BENCH_SECONDS (15 per read scenario),
 * BENCH_CONNECTIONS (32), BENCH_DATABASE_URL (default: a temp SQLite file).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PORT = 18_000 + Math.floor(Math.random() * 1000);
const BASE = `http://127.0.0.1:${PORT}`;
const CLIENT_ID = 'bench-admin';
const CLIENT_SECRET = 'bench-admin-secret-0123456789';

interface Row {
  scenario: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-'));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `sqlite:${join(dir, 'bench.db')}`;
  const server = startServer(databaseUrl);
  const rows: Row[] = [];
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

    rows.push(await run('GET /v1/users/{id}', { duration: SECONDS, requests: [{ setupRequest: (req) => ({ ...req, headers: auth, path: `/v1/users/${pick(ids)}` })}] }));
    rows.push(
      await run("GET /v1/users?$filter=userName eq '…'", {
        duration: SECONDS,
        requests: [{ setupRequest: (req) => ({ ...req, headers: auth, path: `/v1/users?$filter=${encodeURIComponent(`userName eq '${pick(names)}'`)}` }) }],
      }),
    );
    const deepCursor = await cursorAt(token, Math.floor(USERS * 0.9));
    rows.push(
      await run('GET /v1/users?cursor=<90% deep>&$top=50', {
        duration: SECONDS,
        requests: [{ setupRequest: (req) => ({ ...req, headers: auth, path: `/v1/users?$top=50&cursor=${encodeURIComponent(deepCursor)}` }) }],
      }),
    );
    report(rows, databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres');
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
  const child = spawn(process.execPath, ['dist/cli/main.js', 'serve'], {
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

/** Walks keyset pages of 1000 to reach a position deep in the table. */
async function cursorAt(token: string, position: number): Promise<string> {
  let cursor: string | null = null;
  for (let seen = 0; seen < position; seen += 1000) {
    const page: { nextCursor: string | null } = await getJson(token, `/v1/users?$top=1000&$select=id${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  if (!cursor) throw new Error('could not reach a deep cursor');
  return cursor;
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
    max: result.latency.max,
    errors: result.errors,
    non2xx: result.non2xx,
  };
  console.log(`${row.rps} req/s, p99 ${row.p99} ms${row.non2xx || row.errors ? `, ${row.non2xx} non-2xx, ${row.errors} errors` : ""}`);
  return row;
}

function report(rows: Row[], database: string): void {
  console.log(`\nRoster benchmark: ${USERS} users, ${database}, ${CONNECTIONS} connections, ${cpus().length} cores, Node ${process.version}\n`);
  console.table(rows.map((r) => ({ scenario: r.scenario, 'req/s': r.rps, 'p50 ms': r.p50, 'p99 ms': r.p99, 'max ms': r.max, requests: r.requests, errors: r.errors + r.non2xx })));
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${new Date().toISOString().slice(0, 10)}-${database}.json`;
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), users: USERS, database, connections: CONNECTIONS, cores: cpus().length, node: process.version, rows }, null, 2)}\n`);
  console.log(`\nWritten to ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
