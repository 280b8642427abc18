/**
 * The bulk and sync scenarios of `npm run bench` (issue 9, "Benchmark"), against the server
 * process run.ts started. Called by run.ts after its load (`BENCH_ONLY=bulk`, and at the end of
 * the default run):
 *
 * 1. `POST /v1/users/bulk`: BENCH_BULK_USERS new users of a fresh origin, then as many updates of
 *    two fields (title, department), in sequential calls of each size in BENCH_BULK_CALL_SIZES
 *    (each size with its own origin). Users/s over the summed call times, p50/p99 per call.
 * 2. A sync plan: a staged run of the 1,000-row origin's users (10% with a changed title),
 *    uploaded in calls of 10,000 rows, then `POST …/plan` timed alone (target < 5 s).
 * 3. `roster sync file.csv --apply` end to end (the built CLI as a child process) for each row
 *    count in BENCH_CLI_ROWS: wall time and the CLI's peak RSS (memory must stay flat).
 * 4. `GET /v1/users/{id}` p99 at 8 connections without load, then while a bulk load of
 *    BENCH_BULK_USERS (calls of 10,000) runs (target < 100 ms).
 *
 * Knobs (env): BENCH_BULK_USERS (100000), BENCH_BULK_CALL_SIZES (`1000,10000`), BENCH_CLI_ROWS
 * (`100000,200000`), BENCH_BULK_STEPS (`upsert,plan,cli,get`: which steps run; plan without
 * upsert loads its origin first, untimed), BENCH_GET_SECONDS (10: the GET baseline's length).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import autocannon from 'autocannon';
import type { Row } from './scim-scenarios.js';

const BULK_USERS = Number(process.env.BENCH_BULK_USERS ?? 100_000);
const CALL_SIZES = (process.env.BENCH_BULK_CALL_SIZES ?? '1000,10000').split(',').map(Number);
const CLI_ROWS = (process.env.BENCH_CLI_ROWS ?? '100000,200000').split(',').filter(Boolean).map(Number);
const STEPS = new Set((process.env.BENCH_BULK_STEPS ?? 'upsert,plan,cli,get').split(','));
const GET_SECONDS = Number(process.env.BENCH_GET_SECONDS ?? 10);
/** Rows per staged upload call and per call of the concurrent load (the server's maximum). */
const BIG_CALL = 10_000;
const GET_CONNECTIONS = 8;

/** One measured figure of the bulk scenarios, as run.ts prints and stores it. */
export interface BulkFigure {
  what: string;
  /** The headline value, in `unit`. */
  value: number;
  unit: string;
  /** Per-call latency, ms, where the figure is made of several calls. */
  p50?: number;
  p99?: number;
  /** How many calls (or requests) it is made of. */
  calls?: number;
  target?: string;
  note?: string;
}

/** What the scenarios need from run.ts. */
export interface BulkBenchContext {
  base: string;
  /** A fresh admin access token (client credentials): the whole run outlasts one token. */
  token: () => Promise<string>;
  /** The admin client's credentials, for the CLI (ROSTER_CLIENT_ID / ROSTER_CLIENT_SECRET). */
  clientId: string;
  clientSecret: string;
}

/** Runs the bulk and sync scenarios; returns autocannon rows (the GETs) and the figures. */
export async function bulkScenarios(ctx: BulkBenchContext): Promise<{ rows: Row[]; figures: BulkFigure[] }> {
  const rows: Row[] = [];
  const figures: BulkFigure[] = [];
  const add = (figure: BulkFigure) => {
    figures.push(figure);
    const latency = figure.p50 === undefined ? '' : `, p50 ${figure.p50} ms, p99 ${figure.p99} ms per call`;
    console.log(`${figure.what}: ${figure.value} ${figure.unit}${latency}${figure.note ? ` (${figure.note})` : ''}`);
  };
  let sampleIds: string[] = [];

  // 1. Bulk upsert: creates, then updates of two fields, per call size.
  const planOrigin = `bulk${CALL_SIZES[0]}`;
  if (STEPS.has('upsert')) {
    for (const size of CALL_SIZES) {
      const origin = `bulk${size}`;
      const created = await bulkLoad(ctx, origin, size, (i) => newRow(origin, i), 'added');
      sampleIds = sampleIds.length > 0 ? sampleIds : created.ids;
      add(rate(`bulk upsert, ${BULK_USERS} new users, calls of ${size}`, created, '≥ 30,000 users/s SQLite, ≥ 15,000 PostgreSQL'));
      const updated = await bulkLoad(ctx, origin, size, (i) => ({ key: String(i), ...updatedFields(i) }), 'updated');
      add(rate(`bulk upsert, ${BULK_USERS} updates of title + department, calls of ${size}`, updated, '≥ 30,000 users/s SQLite, ≥ 15,000 PostgreSQL'));
    }
  }

  // 2. A sync plan of the first origin's users, 10% with a changed title.
  if (STEPS.has('plan')) {
    if (!STEPS.has('upsert')) {
      console.log(`(loading ${planOrigin} for the plan, untimed)`);
      await bulkLoad(ctx, planOrigin, BIG_CALL, (i) => ({ ...newRow(planOrigin, i), ...updatedFields(i) }), 'added');
    }
    const token = await ctx.token();
    const run = await call<{ id: string }>(ctx.base, token, 'POST', '/v1/sync-runs', JSON.stringify({ origin: planOrigin, staged: true }));
    const uploads: number[] = [];
    for (let start = 0; start < BULK_USERS; start += BIG_CALL) {
      const body = JSON.stringify({ users: range(start, Math.min(start + BIG_CALL, BULK_USERS)).map((i) => snapshotRow(planOrigin, i)) });
      const started = performance.now();
      await call(ctx.base, token, 'POST', `/v1/sync-runs/${run.id}/users`, body);
      uploads.push(performance.now() - started);
    }
    const upload = sum(uploads);
    add({ what: `sync run upload, ${BULK_USERS} rows in calls of ${BIG_CALL}`, value: Math.round(upload), unit: 'ms', calls: uploads.length, ...percentiles(uploads), note: `${Math.round((BULK_USERS * 1000) / upload)} rows/s` });
    const started = performance.now();
    const planned = await call<{ status: string; counts: Record<string, number> }>(ctx.base, token, 'POST', `/v1/sync-runs/${run.id}/plan`);
    const plan = performance.now() - started;
    add({ what: `sync plan of ${BULK_USERS} rows against ${BULK_USERS} users of the origin`, value: Math.round(plan), unit: 'ms', target: '< 5,000 ms', note: `${planned.status}, ${JSON.stringify(planned.counts)}` });
    await call(ctx.base, await ctx.token(), 'DELETE', `/v1/sync-runs/${run.id}`);
  }

  // 4. GET by id without, then with a bulk load running (before the CLI: the table is smaller).
  if (STEPS.has('get')) {
    const token = await ctx.token();
    if (sampleIds.length === 0) sampleIds = (await bulkLoad(ctx, 'bulkget', BIG_CALL, (i) => newRow('bulkget', i), 'added', Math.min(BULK_USERS, 20_000))).ids;
    const quiet = await getById(ctx.base, token, sampleIds, `GET /v1/users/{id} (${GET_CONNECTIONS} connections, no load)`, GET_SECONDS * 1000).result;
    rows.push(quiet.row);
    const origin = 'bulkconcurrent';
    const bodies = range(0, Math.ceil(BULK_USERS / BIG_CALL)).map((c) =>
      JSON.stringify({ origin, mode: 'upsert', users: range(c * BIG_CALL, Math.min((c + 1) * BIG_CALL, BULK_USERS)).map((i) => newRow(origin, i)) }),
    );
    const loaded = getById(ctx.base, token, sampleIds, `GET /v1/users/{id} (${GET_CONNECTIONS} connections, during a bulk load)`, null);
    const times: number[] = [];
    for (const body of bodies) {
      const started = performance.now();
      await call(ctx.base, token, 'POST', '/v1/users/bulk', body);
      times.push(performance.now() - started);
    }
    loaded.stop();
    const busy = await loaded.result;
    rows.push(busy.row);
    add({ what: `GET /v1/users/{id} p99, ${GET_CONNECTIONS} connections, no load`, value: quiet.row.p99, unit: 'ms', calls: quiet.row.requests, note: `${quiet.row.rps} req/s, p50 ${quiet.row.p50} ms, max ${quiet.row.max} ms` });
    add({
      what: `GET /v1/users/{id} p99, ${GET_CONNECTIONS} connections, during a bulk load of ${BULK_USERS} (calls of ${BIG_CALL})`,
      value: busy.row.p99, unit: 'ms', calls: busy.row.requests, target: '< 100 ms',
      note: `${busy.row.rps} req/s, p50 ${busy.row.p50} ms, max ${busy.row.max} ms; the load ran at ${Math.round((BULK_USERS * 1000) / sum(times))} users/s meanwhile`,
    });
  }

  // 3. roster sync of generated CSV files, end to end.
  if (STEPS.has('cli')) {
    for (const count of CLI_ROWS) {
      const cli = await cliSync(ctx, count);
      add({ what: `roster sync --apply of a ${count}-row CSV (wall time)`, value: Math.round(cli.wallMs), unit: 'ms', note: `${Math.round((count * 1000) / cli.wallMs)} users/s end to end; exit ${cli.exitCode}; ${cli.summary}` });
      add({ what: `roster sync --apply of a ${count}-row CSV (CLI peak RSS)`, value: cli.peakRssMiB, unit: 'MiB', target: 'flat whatever the file size', note: cli.rssSource });
    }
  }
  return { rows, figures };
}

/** What a sequence of bulk calls took: each call's time (ms), and some ids of what it touched. */
interface Load {
  rows: number;
  times: number[];
  ids: string[];
}

/**
 * Sends `rows` (default BULK_USERS) rows of `origin` through POST /v1/users/bulk in sequential
 * calls of `size`; each body is built before its call's clock starts. Fails when a row is not
 * `expected` (a bench that measures errors would flatter the server).
 */
async function bulkLoad(ctx: BulkBenchContext, origin: string, size: number, row: (i: number) => Record<string, unknown>, expected: 'added' | 'updated', rows = BULK_USERS): Promise<Load> {
  const token = await ctx.token();
  process.stdout.write(`POST /v1/users/bulk ${origin}: ${rows} rows (${expected}) in calls of ${size} … `);
  const times: number[] = [];
  const ids: string[] = [];
  for (let start = 0; start < rows; start += size) {
    const body = JSON.stringify({ origin, mode: 'upsert', users: range(start, Math.min(start + size, rows)).map(row) });
    const started = performance.now();
    const answer = await call<{ added: number; updated: number; errors: number; users: { id: string | null; status: string; error?: unknown }[] }>(ctx.base, token, 'POST', '/v1/users/bulk', body);
    times.push(performance.now() - started);
    const wrong = answer.users.find((u) => u.status !== expected);
    if (wrong) throw new Error(`bulk call at row ${start} of ${origin}: a row is ${wrong.status}, not ${expected}: ${JSON.stringify(wrong).slice(0, 500)}`);
    // A spread sample for the GET scenario: every 50th user.
    for (let k = 0; k < answer.users.length; k += 50) if (answer.users[k]?.id) ids.push(answer.users[k]!.id!);
  }
  console.log(`${Math.round((rows * 1000) / sum(times))} users/s`);
  return { rows, times, ids };
}

function rate(what: string, load: Load, target: string): BulkFigure {
  return { what, value: Math.round((load.rows * 1000) / sum(load.times)), unit: 'users/s', calls: load.times.length, ...percentiles(load.times), target };
}

/** A new user of `origin`: the fields of run.ts's userBody, with a userName unique across origins. */
function newRow(origin: string, i: number): Record<string, unknown> {
  return {
    key: String(i),
    userName: `${origin}-${i}@bulk.example`,
    email: `${origin}-${i}@bulk.example`,
    givenName: `Given${i % 997}`,
    familyName: `Family${i % 1009}`,
    department: `Dept${i % 50}`,
    title: `Title${i % 30}`,
    attributes: { level: i % 10 },
  };
}

/** The two fields the update pass changes. */
function updatedFields(i: number): Record<string, unknown> {
  return { title: `Senior title${i % 30}`, department: `Division${i % 40}` };
}

/** A full row of the origin as it is after step 1, with a new title for every tenth user. */
function snapshotRow(origin: string, i: number): Record<string, unknown> {
  return { ...newRow(origin, i), ...updatedFields(i), ...(i % 10 === 0 ? { title: `Moved title${i % 30}` } : {}) };
}

/**
 * GET /v1/users/{id} over `ids` with autocannon at 8 connections, for `durationMs` or, when null,
 * until `stop()` (the caller stops it when its load is done).
 */
function getById(base: string, token: string, ids: string[], scenario: string, durationMs: number | null): { result: Promise<{ row: Row }>; stop: () => void } {
  process.stdout.write(`${scenario} … `);
  let instance: autocannon.Instance | undefined;
  const result = new Promise<{ row: Row }>((resolve, reject) => {
    instance = autocannon(
      {
        url: base,
        connections: GET_CONNECTIONS,
        // Without a duration autocannon stops after 10 s; an hour is "until stopped".
        duration: durationMs === null ? 3600 : durationMs / 1000,
        requests: [{ setupRequest: (req) => ({ ...req, headers: { authorization: `Bearer ${token}` }, path: `/v1/users/${ids[Math.floor(Math.random() * ids.length)]}` }) }],
      },
      (error, r) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const row: Row = {
          scenario, requests: r.requests.total, rps: Math.round(r.requests.total / (r.duration || 1)),
          p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.mean, max: r.latency.max, errors: r.errors, non2xx: r.non2xx,
        };
        console.log(`${row.rps} req/s, p99 ${row.p99} ms${row.non2xx || row.errors ? `, ${row.non2xx} non-2xx, ${row.errors} errors` : ''}`);
        resolve({ row });
      },
    );
  });
  return { result, stop: () => instance?.stop() };
}

/** The outcome of one `roster sync` child process. */
interface CliRun {
  wallMs: number;
  peakRssMiB: number;
  rssSource: string;
  exitCode: number | null;
  summary: string;
}

/**
 * Writes a `count`-row CSV (a fresh origin) to a temp file and runs `node dist/cli/main.js sync
 * file.csv --origin … --apply` against the server with the admin's client credentials. Peak RSS
 * from `/usr/bin/time -v` when present, else VmHWM polled from /proc.
 */
async function cliSync(ctx: BulkBenchContext, count: number): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-csv-'));
  const file = join(dir, `people-${count}.csv`);
  const origin = `csv${count}`;
  try {
    const out = createWriteStream(file);
    out.write('key,userName,email,givenName,familyName,department,title\n');
    for (let i = 0; i < count; i++) {
      const line = `${i},${origin}-${i}@cli.example,${origin}-${i}@cli.example,"Given ${i % 997}",Family${i % 1009},Dept${i % 50},"Title, ${i % 30}"\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');

    process.stdout.write(`roster sync ${count}-row CSV --apply … `);
    const timeV = existsSync('/usr/bin/time');
    const args = ['dist/cli/main.js', 'sync', file, '--origin', origin, '--apply', '--url', ctx.base];
    const started = performance.now();
    const child = timeV
      ? spawn('/usr/bin/time', ['-v', process.execPath, ...args], { env: { ...process.env, ROSTER_CLIENT_ID: ctx.clientId, ROSTER_CLIENT_SECRET: ctx.clientSecret, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, args, { env: { ...process.env, ROSTER_CLIENT_ID: ctx.clientId, ROSTER_CLIENT_SECRET: ctx.clientSecret, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    // The plan prints one line per created user: keep only the tail (the summary).
    let stdoutTail = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdoutTail = (stdoutTail + chunk.toString()).slice(-2000)));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
    let polledKiB = 0;
    const poll = timeV ? undefined : setInterval(() => (polledKiB = Math.max(polledKiB, vmHwmKiB(child.pid))), 100);
    const [code] = (await once(child, 'exit')) as [number | null];
    const wallMs = performance.now() - started;
    if (poll) clearInterval(poll);
    const timed = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    const peakKiB = timed ? Number(timed[1]) : polledKiB;
    const summary = stdoutTail.trim().split('\n').slice(-2).join(' / ');
    console.log(`${Math.round(wallMs)} ms, peak RSS ${Math.round(peakKiB / 1024)} MiB, exit ${code}`);
    if (code !== 0) console.log(`CLI stderr:\n${stderr.slice(-3000)}\nstdout tail:\n${stdoutTail}`);
    return { wallMs, peakRssMiB: Math.round(peakKiB / 1024), rssSource: timed ? '/usr/bin/time -v' : 'VmHWM polled every 100 ms', exitCode: code, summary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The peak resident set (KiB) of a running process, 0 once it is gone. */
function vmHwmKiB(pid: number | undefined): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * One HTTP call with node:http (fetch's 300 s header timeout could cut a slow plan short).
 * Throws with the status and body on anything but 2xx.
 */
function call<T = unknown>(base: string, token: string, method: string, path: string, body?: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if ((res.statusCode ?? 0) >= 300) return reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 1000)}`));
        resolve((text ? JSON.parse(text) : undefined) as T);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** p50 and p99 (nearest rank) of per-call times, ms. */
function percentiles(times: number[]): { p50: number; p99: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);
  return { p50: at(50), p99: at(99) };
}
