import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialect } from '../helpers/test-database.js';

/**
 * Start-up as an operator meets it: `roster serve` spawned (through tsx, no build needed) with a
 * failing setting prints one line on stderr, exits non-zero, and leaves nothing behind; `npm
 * start` stopped by a signal to npm stops the server. Processes are slow to start on a loaded
 * machine, hence the long timeouts. SQLite cases run in the sqlite project, PostgreSQL cases in
 * the postgres project (CI runs both).
 */
const run = promisify(execFile);
const onSqlite = testDialect() === 'sqlite';
const onPostgres = testDialect() === 'postgres';
const TIMEOUT = 120_000;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `roster serve` with `env` on top of a quiet environment; resolves when the process exits. */
async function serve(env: Record<string, string>, timeoutMs = 60_000): Promise<Outcome> {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: { ...process.env, LOG_LEVEL: 'info', ROSTER_ADMIN_CLIENT_ID: undefined, ROSTER_ADMIN_CLIENT_SECRET: undefined, ...env },
    timeout: timeoutMs,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number | null; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** Exactly one line on stderr matching `pattern`, no stack trace, nothing on stdout (no pino JSON). */
function expectOneLine(outcome: Outcome, pattern: RegExp): void {
  expect(outcome.code, outcome.stderr).toBe(1);
  expect(outcome.stderr.trimEnd().split('\n'), outcome.stderr).toHaveLength(1);
  expect(outcome.stderr).toMatch(/^error: /);
  expect(outcome.stderr).toMatch(pattern);
  expect(outcome.stderr).not.toMatch(/\n\s+at /);
  expect(outcome.stdout).toBe('');
}

async function occupyPort(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  return server;
}
const portOf = (server: Server) => (server.address() as { port: number }).port;

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'roster-startup-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!onSqlite)('start-up failures on SQLite (sqlite project)', () => {
  it('a port in use: one line naming PORT, and no data directory or database created', { timeout: TIMEOUT }, async () => {
    const busy = await occupyPort();
    try {
      const dir = join(scratch, 'port-in-use');
      const outcome = await serve({ PORT: String(portOf(busy)), DATABASE_URL: `sqlite:${dir}/roster.db` });
      expectOneLine(outcome, new RegExp(`port ${portOf(busy)} is in use.*set PORT`));
      expect(existsSync(dir)).toBe(false);
    } finally {
      busy.close();
    }
  });

  it('a data path that cannot be created (under /proc, which made mkdir spin forever) or is under a file', { timeout: TIMEOUT }, async () => {
    const proc = await serve({ PORT: '0', DATABASE_URL: 'sqlite:/proc/x/roster.db' }, 60_000);
    expectOneLine(proc, /cannot create the data directory \/proc\/x/);

    const file = join(scratch, 'a-file');
    writeFileSync(file, 'not a directory');
    const underFile = await serve({ PORT: '0', DATABASE_URL: `sqlite:${file}/data/roster.db` });
    expectOneLine(underFile, /a-file.*(not a directory|parent is not a directory)/);
    expect(readFileSync(file, 'utf8')).toBe('not a directory');
  });
});

describe.skipIf(!onPostgres)('start-up failures on PostgreSQL (postgres project)', () => {
  const admin = () => new URL(process.env.TEST_DATABASE_URL!);

  it('a missing database: one line with the command that creates it, and the database is still missing', { timeout: TIMEOUT }, async () => {
    const url = admin();
    const name = `roster_missing_${process.pid}_${Date.now()}`;
    url.pathname = `/${name}`;
    const outcome = await serve({ PORT: '0', DATABASE_URL: url.toString() });
    expectOneLine(outcome, new RegExp(`database "${name}" does not exist.*createdb .*${name}`));
    const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
    try {
      expect((await client.query('select 1 from pg_database where datname = $1', [name])).rowCount).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('an unreachable server (connection refused, unknown host): one line each', { timeout: TIMEOUT }, async () => {
    const busy = await occupyPort(); // a port we know; closed again, so nothing listens there
    const closedPort = portOf(busy);
    await new Promise((resolve) => busy.close(resolve));
    const refused = admin();
    refused.port = String(closedPort);
    expectOneLine(await serve({ PORT: '0', DATABASE_URL: refused.toString() }), /cannot reach PostgreSQL at 127\.0\.0\.1:\d+: connection refused/);
    const unknown = admin();
    unknown.hostname = 'no-such-host.invalid';
    expectOneLine(await serve({ PORT: '0', DATABASE_URL: unknown.toString() }), /cannot reach PostgreSQL at no-such-host\.invalid:\d+/);
  });

  it('a port in use: one line, and the database is not migrated', { timeout: TIMEOUT }, async () => {
    const database = await createTestDatabase();
    const busy = await occupyPort();
    try {
      expectOneLine(await serve({ PORT: String(portOf(busy)), DATABASE_URL: database.url }), /is in use.*set PORT/);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        expect((await client.query(`select 1 from information_schema.tables where table_schema = 'public'`)).rowCount).toBe(0);
      } finally {
        await client.end();
      }
    } finally {
      busy.close();
      await database.drop();
    }
  });
});

describe.skipIf(!onSqlite)('npm start (sqlite project: the database does not matter here)', () => {
  /**
   * A copy of what `npm install` leaves (package.json, bin/, a fresh dist/, node_modules), built
   * into a scratch directory so the test neither needs nor touches this checkout's dist/.
   */
  let app: string;
  beforeAll(async () => {
    app = join(scratch, 'app');
    mkdirSync(app);
    cpSync('package.json', join(app, 'package.json'));
    cpSync('bin', join(app, 'bin'), { recursive: true });
    symlinkSync(join(process.cwd(), 'node_modules'), join(app, 'node_modules'));
  }, TIMEOUT);

  it('without a build, or with sources newer than the build, says to run npm run build', { timeout: TIMEOUT }, async () => {
    const missing = await run(process.execPath, ['bin/roster.js', '--version'], { cwd: app }).catch((e: Outcome) => e);
    expect(missing).toMatchObject({ code: 1 });
    expect((missing as Outcome).stderr.trim()).toBe('error: Roster is not built yet: run `npm run build` (`npm install` builds it too).');

    // The sources as a checkout has them, then the build (npm install's `prepare`): newer.
    cpSync('src', join(app, 'src'), { recursive: true, preserveTimestamps: true });
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', join(process.cwd(), 'tsconfig.build.json'), '--outDir', join(app, 'dist')]);
    const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
    expect((await run(process.execPath, ['bin/roster.js', '--version'], { cwd: app })).stdout.trim()).toBe(version);

    const later = new Date(Date.now() + 60_000);
    utimesSync(join(app, 'src/config.ts'), later, later);
    const stale = await run(process.execPath, ['bin/roster.js', '--version'], { cwd: app }).catch((e: Outcome) => e);
    expect(stale).toMatchObject({ code: 1 });
    expect((stale as Outcome).stderr).toMatch(/^error: the build in dist\/ is older than src\/config\.ts: run `npm run build`/);
    rmSync(join(app, 'src'), { recursive: true });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to the npm process stops the server cleanly (exit 0, port released)`, { timeout: TIMEOUT }, async () => {
      const probe = await occupyPort();
      const port = portOf(probe);
      await new Promise((resolve) => probe.close(resolve));
      const npm = spawn('npm', ['start'], {
        cwd: app,
        env: { ...process.env, PORT: String(port), DATABASE_URL: `sqlite:${join(scratch, `npm-${signal}`, 'roster.db')}`, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
      try {
        const deadline = Date.now() + 90_000;
        while (!(await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false))) {
          expect(Date.now() < deadline, output).toBe(true);
          await new Promise((r) => setTimeout(r, 200));
        }
        const serverPid = Number(/"pid":(\d+)/.exec(output)?.[1]);
        expect(serverPid).not.toBe(npm.pid); // the server is npm's child, not npm itself

        npm.kill(signal);
        expect(await exited, output).toBe(0);
        expect(output).toContain(`"signal":"${signal}","msg":"shutting down"`);
        expect(() => process.kill(serverPid, 0)).toThrow(/ESRCH/);
        await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      } finally {
        npm.kill('SIGKILL');
      }
    });
  }
});
