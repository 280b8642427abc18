import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/runtime.js';
import { createTestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
let database: Awaited<ReturnType<typeof createTestDatabase>>;

/**
 * The `roster` command, run as a user would (through tsx, so no build is needed). Each call is a
 * process that compiles TypeScript on start: slow on a loaded 2-core machine, hence few tests
 * with generous timeouts.
 */
async function roster(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
  });
  return stdout;
}

/** A failing `roster` call: its exit code and stderr. */
async function rosterFails(...args: string[]): Promise<{ code: number; stderr: string }> {
  const error = await roster(...args).then(
    (stdout) => ({ code: 0, stderr: `unexpected success: ${stdout}` }),
    (e: { code: number; stderr: string }) => e,
  );
  return { code: error.code, stderr: error.stderr };
}

const json = async (...args: string[]) => JSON.parse(await roster(...args, '--json')) as unknown;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('roster CLI', () => {
  it('migrates (saying what it applied), creates a tenant and a client whose credentials then work', { timeout: 180_000 }, async () => {
    const help = await roster('--help');
    expect(help).toMatch(/serve[\s\S]*migrate[\s\S]*tenants[\s\S]*clients[\s\S]*users[\s\S]*keys/);
    expect(await roster('--version')).toBe(`${JSON.parse(readFileSync('package.json', 'utf8')).version}\n`);
    expect(await roster('migrate')).toMatch(/^Applied \d+ migration\(s\):\n {2}0001-foundation\n/);
    expect(await json('migrate')).toEqual({ applied: [] });

    // People get a table, scripts JSON.
    expect(await roster('tenants', 'create', 'acme', '--name', 'Acme')).toMatch(/│ name\s+│ Acme\s+│/);
    expect(await json('tenants', 'list')).toMatchObject([{ id: 'acme', name: 'Acme' }]);
    const created = (await json('clients', 'create', '--tenant', 'acme', '--scopes', 'users:read,users:write', '--name', 'HR feed')) as { id: string; clientId: string; clientSecret: string };
    expect(created).toMatchObject({ tenantId: 'acme', name: 'HR feed', scopes: ['users:read', 'users:write'] });
    expect(created).not.toHaveProperty('secretHash');

    const runtime = await openRuntime(loadConfig({ DATABASE_URL: database.url, ROSTER_ISSUER: 'http://cli.test' }));
    try {
      const token = await runtime.services.tokens.clientCredentials({ clientId: created.clientId, clientSecret: created.clientSecret }, undefined);
      expect(token.scope).toBe('users:read users:write');
      const principal = await runtime.services.tokens.authenticate(token.access_token);
      expect(principal.tenantId).toBe('acme');
      await runtime.services.users.create(principal, { userName: 'cli-user', department: 'Ops' });
    } finally {
      await runtime.close();
    }
    expect(await json('users', 'list', '--tenant', 'acme', '--filter', "department eq 'Ops'")).toMatchObject([{ userName: 'cli-user' }]);
    const table = await roster('clients', 'list', '--tenant', 'acme');
    expect(table).toMatch(/│ id\s+│ client_id\s+│ name\s+│ scopes\s+│ createdAt\s+│/);
    expect(table).toContain(created.clientId);

    // Delete by client_id; then the tenant itself.
    expect(await json('clients', 'delete', created.clientId, '--tenant', 'acme')).toMatchObject({ deleted: { id: created.id } });
    expect(await json('clients', 'list', '--tenant', 'acme')).toEqual([]);
    expect(await roster('keys', 'rotate')).toMatch(/^New signing key \S+\.\nRunning servers sign new tokens with it within 60 s/);
    expect(await json('tenants', 'delete', 'acme', '--yes')).toEqual({ deleted: 'acme' });
    expect(await json('tenants', 'list')).toEqual([]);
  });

  it('reports errors in one line with the code and exit 1: unknown tenants everywhere, the default tenant, a bad filter', { timeout: 180_000 }, async () => {
    for (const args of [
      ['clients', 'create', '--tenant', 'nope', '--scopes', 'users:read'],
      ['clients', 'list', '--tenant', 'nope'],
      ['clients', 'delete', 'rc_x', '--tenant', 'nope'],
      ['users', 'list', '--tenant', 'nope'],
      ['tenants', 'delete', 'nope', '--yes'],
    ]) {
      const { code, stderr } = await rosterFails(...args);
      expect(code, args.join(' ')).toBe(1);
      expect(stderr, args.join(' ')).toMatch(/^error: tenant\.not_found: .*"nope".*\n$/);
    }
    expect(await rosterFails('tenants', 'delete', 'default', '--yes')).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: tenant\.default_protected: /) });
    const filter = await rosterFails('users', 'list', '--filter', 'department eq');
    expect(filter).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: request\.invalid_filter: .*\n$/) });
    expect(await rosterFails('clients', 'list')).toMatchObject({ code: 1, stderr: expect.stringContaining("required option '--tenant <id>' not specified") });
  });
});
