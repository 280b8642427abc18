import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportUsers, openOutput } from '../../src/cli/export-command.js';
import { RosterClient } from '../../src/cli/http-client.js';
import { syncFile } from '../../src/cli/sync-command.js';
import { readSyncFile, type SyncFileFormat } from '../../src/cli/sync-file-reader.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, createTestApp, type TestApp } from '../helpers/test-app.js';

/*
 * `roster export` and `roster sync` speak HTTP to a running server, so these tests start a real
 * one on 127.0.0.1 (the same app as the API tests, on this run's database) and point the CLI's
 * functions, and once the CLI process itself, at it.
 */

let t: TestApp;
let url: string;
let token: string;
const dir = mkdtempSync(join(tmpdir(), 'roster-cli-sync-'));
const client = () => new RosterClient({ url, clientId: ADMIN_CLIENT_ID, clientSecret: ADMIN_CLIENT_SECRET });

beforeAll(async () => {
  t = await createTestApp();
  token = await t.adminToken();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function createUser(body: Record<string, unknown>): Promise<{ id: string } & Record<string, unknown>> {
  const res = await t.request({ method: 'POST', url: '/v1/users', token, payload: body });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** The users the tests export: awkward values on purpose (separators, quotes, line breaks, JSON). */
async function seed(prefix: string) {
  const boss = await createUser({ userName: `${prefix}-boss`, email: `${prefix}-boss@example.com`, externalIds: [{ origin: 'hr', key: `${prefix}-1` }], status: 'active' });
  const worker = await createUser({
    userName: `${prefix}-worker`,
    givenName: 'Jürgen',
    familyName: 'Müller, "Jr."',
    title: 'Head of\nSales; EMEA',
    department: `${prefix}-dept`,
    managerId: boss.id,
    preventDeprovision: true,
    tags: ['a|b', 'c', ' spaced'],
    attributes: { shirt: 'M', sizes: [1, 2] },
    externalIds: [{ origin: 'hr', key: `${prefix}-2` }, { origin: 'ad', key: `${prefix}-x` }],
    status: 'active',
  });
  const other = await createUser({ userName: `${prefix}-contractor`, department: `${prefix}-dept`, externalIds: [{ origin: 'ad', key: `${prefix}-c` }] });
  return { boss, worker, other };
}

/** Collects what a stream receives, as text. */
function sink(): Writable & { text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return Object.assign(stream, { text: () => chunks.join('') });
}

async function exportTo(format: SyncFileFormat, filter: string, origin?: string) {
  const path = join(dir, `export-${Math.random().toString(36).slice(2)}.${format}`);
  const output = await openOutput(path);
  const result = await exportUsers(client(), { format, filter, origin, out: output.stream }).finally(() => output.close());
  return { path, result };
}

async function readBack(path: string) {
  const rows: Record<string, unknown>[] = [];
  for await (const record of readSyncFile(path)) {
    expect(record.problems, `line ${record.line}`).toEqual([]);
    rows.push(record.row);
  }
  return rows;
}

describe('roster export', () => {
  it.each(['csv', 'json', 'ndjson'] as const)('writes %s that roster sync reads back as the same values, keyed by the origin, skipping users without a key', async (format) => {
    const prefix = `exp-${format}`;
    const { boss, worker } = await seed(prefix);
    const { path, result } = await exportTo(format, `department eq '${prefix}-dept' or userName eq '${prefix}-boss'`, 'hr');
    expect(result).toEqual({ exported: 2, skipped: 1 });

    const rows = await readBack(path);
    const byKey = new Map(rows.map((r) => [r.key, r]));
    expect([...byKey.keys()].sort()).toEqual([`${prefix}-1`, `${prefix}-2`]);
    const row = byKey.get(`${prefix}-2`)!;
    expect(row).toMatchObject({
      userName: `${prefix}-worker`,
      givenName: 'Jürgen',
      familyName: 'Müller, "Jr."',
      title: 'Head of\nSales; EMEA',
      managerId: boss.id,
      preventDeprovision: true,
      tags: ['a|b', 'c', ' spaced'],
      attributes: { shirt: 'M', sizes: [1, 2] },
      status: 'active',
    });
    // Server fields are not part of a row; the key stands for the origin's external id.
    for (const field of ['id', 'version', 'createdAt', 'updatedAt', 'externalIds']) expect(row).not.toHaveProperty(field);
    // Every value sent back equals the stored one (null and empty values are simply not sent).
    const stored = (await t.request({ method: 'GET', url: `/v1/users/${worker.id}`, token })).json() as Record<string, unknown>;
    for (const [field, value] of Object.entries(row)) if (field !== 'key') expect(stored[field], field).toEqual(value);
  });

  it('without --origin writes every user with its externalIds and no key', async () => {
    await seed('noorigin');
    const { path, result } = await exportTo('ndjson', "department eq 'noorigin-dept'");
    expect(result).toEqual({ exported: 2, skipped: 0 });
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.userName).sort()).toEqual(['noorigin-contractor', 'noorigin-worker']);
    expect(lines.every((l) => !('key' in l) && Array.isArray(l.externalIds))).toBe(true);
  });

  it('follows nextCursor through every page', { timeout: 60_000 }, async () => {
    const prefix = 'paged';
    for (let i = 0; i < 1005; i += 500) {
      const users = Array.from({ length: Math.min(500, 1005 - i) }, (_, j) => ({ userName: `${prefix}-${i + j}`, department: prefix, externalIds: [{ origin: 'hr', key: `${prefix}-${i + j}` }] }));
      await Promise.all(users.map((u) => createUser(u)));
    }
    const out = sink();
    const result = await exportUsers(client(), { format: 'csv', filter: `department eq '${prefix}'`, origin: 'hr', out });
    expect(result).toEqual({ exported: 1005, skipped: 0 });
    const lines = out.text().trim().split('\r\n');
    expect(lines).toHaveLength(1006);
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0])).size).toBe(1005);
  });

  it('as a command: writes stdout, reports counts on stderr; a bad filter or wrong secret is one line and exit 1, a bad option exit 2', { timeout: 180_000 }, async () => {
    await seed('proc');
    const ok = await roster(['export', '--format', 'ndjson', '--origin', 'hr', '--filter', "department eq 'proc-dept'", '--url', url]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key)).toEqual(['proc-2']);
    expect(ok.stderr).toBe('Exported 1 user; 1 user without an external id of origin hr skipped.\n');

    const badFilter = await roster(['export', '--filter', 'department eq', '--url', url]);
    expect(badFilter.code).toBe(1);
    expect(badFilter.stderr).toMatch(/^error: GET \/v1\/users: request\.invalid_filter: \$filter: .* \(HTTP 400\)\n$/);

    const wrongSecret = await roster(['export', '--url', url], { ROSTER_CLIENT_SECRET: 'wrong' });
    expect(wrongSecret.code).toBe(1);
    expect(wrongSecret.stderr).toMatch(/^error: the server refused the client credentials of ROSTER_CLIENT_ID test-admin: .*invalid_client/);

    const badFormat = await roster(['export', '--format', 'xml', '--url', url]);
    expect(badFormat.code).toBe(2);
    const noCredentials = await roster(['export', '--url', url], { ROSTER_CLIENT_ID: '', ROSTER_CLIENT_SECRET: '' });
    expect(noCredentials).toMatchObject({ code: 2, stderr: expect.stringMatching(/^error: no credentials/) });
  });
});

/** The `roster` process against the test server, with the admin's client credentials unless overridden. */
function roster(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { env: { ...process.env, ROSTER_CLIENT_ID: ADMIN_CLIENT_ID, ROSTER_CLIENT_SECRET: ADMIN_CLIENT_SECRET, ROSTER_URL: '', ROSTER_TOKEN: '', NO_COLOR: '1', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('roster sync', () => {
  it('checks every row first: bad rows are listed with their lines and nothing is sent (exit 1)', { timeout: 180_000 }, async () => {
    const path = join(dir, 'bad.csv');
    writeFileSync(path, 'key,email,preventDeprovision\n1,a@example.com,yes\n2,nope,maybe\n');
    const res = await roster(['sync', path, '--origin', 'hr', '--url', url]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      'line 3: /preventDeprovision must be true or false (also yes/no, 1/0), not "maybe"\nline 3: /email must be an email address\nerror: 1 of 2 rows is not valid; nothing was sent\n',
    );
    expect(res.stdout).toBe('');
  });

  /* The round trip of issue 9: export with an origin, then sync that file with the same origin, plans no change. */
  it('export → sync with the same origin plans zero changes', { timeout: 120_000 }, async () => {
    const prefix = 'roundtrip';
    await seed(prefix);
    for (const format of ['csv', 'json', 'ndjson'] as const) {
      // Everything of the origin: a sync's snapshot is the origin's whole directory.
      const { path } = await exportTo(format, "externalIds/any(e: e/origin eq 'hr')", 'hr');
      const out = sink();
      const err = sink();
      const result = await syncFile(client(), { file: path, origin: 'hr', apply: false, force: false, out, err, color: false });
      expect(result.exitCode, out.text() + err.text()).toBe(0);
      expect(result.run?.status).toBe('planned');
      expect(result.run?.counts).toMatchObject({ create: 0, update: 0, reactivate: 0, suspend: 0, errors: 0 });
      expect(result.run?.counts.unchanged).toBeGreaterThan(0);
      expect(out.text()).toMatch(/: 0 to create, 0 to update, 0 to reactivate, 0 to suspend, \d+ unchanged, 0 errors\.\nNothing was changed\./);
      await client().request('DELETE', `/v1/sync-runs/${result.run!.id}`);
    }
  });
});
