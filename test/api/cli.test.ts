import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/runtime.js';
import { createTestDatabase } from '../helpers/test-database.js';

const run = promisify(execFile);
let database: Awaited<ReturnType<typeof createTestDatabase>>;

/** The `roster` command, run as a user would (through tsx, so no build is needed). */
async function roster(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
  });
  return stdout;
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('roster CLI', () => {
  // Six CLI processes, each compiling TypeScript on start: slow on a loaded 2-core machine.
  it('migrates, creates a tenant and a client whose credentials then work', { timeout: 120_000 }, async () => {
    expect(await roster('--help')).toMatch(/serve[\s\S]*migrate[\s\S]*tenants[\s\S]*clients[\s\S]*users/);
    expect(await roster('migrate')).toContain('up to date');
    expect(JSON.parse(await roster('tenants', 'create', 'acme', '--name', 'Acme'))).toMatchObject({ id: 'acme', name: 'Acme' });
    const out = await roster('clients', 'create', '--tenant', 'acme', '--scopes', 'users:read,users:write', '--name', 'HR feed');
    const clientId = /client_id:\s+(\S+)/.exec(out)?.[1];
    const clientSecret = /client_secret:\s+(\S+)/.exec(out)?.[1];
    expect(clientId).toBeDefined();

    const runtime = await openRuntime(loadConfig({ DATABASE_URL: database.url, ROSTER_ISSUER: 'http://cli.test' }));
    try {
      const token = await runtime.services.tokens.clientCredentials({ clientId: clientId!, clientSecret: clientSecret! }, undefined);
      expect(token.scope).toBe('users:read users:write');
      const principal = await runtime.services.tokens.authenticate(token.access_token);
      expect(principal.tenantId).toBe('acme');
      await runtime.services.users.create(principal, { userName: 'cli-user', department: 'Ops' });
    } finally {
      await runtime.close();
    }
    const listed = (await roster('users', 'list', '--tenant', 'acme', '--filter', "department eq 'Ops'")).trim().split('\n');
    expect(listed.map((line) => JSON.parse(line).userName)).toEqual(['cli-user']);
  });

  it('reports bad input without a stack trace', { timeout: 60_000 }, async () => {
    const error = await roster('clients', 'create', '--tenant', 'nope', '--scopes', 'users:read').catch((e: { stderr: string; code: number }) => e);
    expect(error).toMatchObject({ code: 1 });
    expect((error as { stderr: string }).stderr).toContain('tenant.not_found');
    expect((error as { stderr: string }).stderr).not.toMatch(/\n\s+at /);
  });
});
