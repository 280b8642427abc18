import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option, type CommanderError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { checkDatabase } from '../db/database-check.js';
import type { ApiClient } from '../domain/credential.js';
import { DEFAULT_TENANT_ID, SCOPES, systemPrincipal } from '../domain/principal.js';
import type { Tenant } from '../domain/tenant.js';
import { AppError } from '../errors/app-error.js';
import { StartupError } from '../errors/startup-error.js';
import { parseODataFilter } from '../filter/odata-filter-parser.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { startServer } from '../server.js';
import { CliError, EXIT_USAGE } from './cli-error.js';
import { exportUsers, openOutput } from './export-command.js';
import { RosterClient, serverOptions } from './http-client.js';
import { printMessage, printRecords, type Column, type OutputOptions } from './output-format.js';
import { useColor } from './plan-diff-format.js';
import { parseMaxDeactivations, syncFile } from './sync-command.js';
import { SYNC_FILE_FORMATS, syncFileFormat, type SyncFileFormat } from './sync-file-reader.js';
import { loadMapping } from './sync-row-mapping.js';

/**
 * The `roster` command. Every subcommand reads the same environment as the server and calls the
 * same services, so the CLI can never bypass a rule the API enforces. Records print as a table,
 * or as JSON with `--json`; an error prints one line (`error: <code>: <message>`) and exits 1.
 */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('roster')
  .version(version, '-V, --version', 'print the version')
  .description('Roster: self-hosted user management and provisioning.\nConfiguration comes from environment variables (DATABASE_URL, PORT, …); see the README.')
  .showHelpAfterError();

/** The CLI acts as an installation admin (the `admin` scope in the default tenant). */
const cliAdmin = systemPrincipal(DEFAULT_TENANT_ID, 'cli');

function config(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

/** Opens the database (checked first, so a missing or unreachable one is one line), runs `work`, closes. */
async function withRuntime(work: (runtime: Runtime) => Promise<void>): Promise<void> {
  const cfg = config();
  await checkDatabase(cfg.databaseUrl);
  const runtime = await openRuntime(cfg);
  try {
    await work(runtime);
  } finally {
    await runtime.close();
  }
}

/** Every command taking --tenant fails on a tenant that does not exist, rather than printing nothing. */
async function requireTenant(runtime: Runtime, id: string): Promise<Tenant> {
  return naming(id, runtime.services.tenants.get(cliAdmin, id));
}

/** The service's tenant.not_found, with the tenant named (a CLI user may have mistyped it). */
async function naming<T>(tenantId: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof AppError && error.code === 'tenant.not_found') throw new AppError('tenant.not_found', `No tenant "${tenantId}" (see roster tenants list).`);
    throw error;
  }
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected a whole number from 1 to 1000');
  return n;
};

const JSON_OPTION = ['--json', 'print JSON (for scripts) instead of a table'] as const;

const tenantColumns: Column<Tenant>[] = [
  ['id', (t) => t.id],
  ['name', (t) => t.name],
  ['createdAt', (t) => t.createdAt],
];
const clientColumns: Column<ApiClient>[] = [
  ['id', (c) => c.id],
  ['client_id', (c) => c.clientId],
  ['name', (c) => c.name],
  ['scopes', (c) => c.scopes.join(' ')],
  ['createdAt', (c) => c.createdAt],
];
/** What the CLI shows of a client: never its secret hash. */
const clientJson = (c: ApiClient) => ({ id: c.id, tenantId: c.tenantId, clientId: c.clientId, name: c.name, scopes: c.scopes, createdAt: c.createdAt, updatedAt: c.updatedAt });

program
  .command('serve')
  .description('Start the HTTP server (migrates the database first); Ctrl-C or SIGTERM stops it')
  .action(async () => {
    await startServer(config());
  });

program
  .command('migrate')
  .description('Apply pending database migrations and exit')
  .option(...JSON_OPTION)
  .action(async (opts: OutputOptions) => {
    await withRuntime(async ({ appliedMigrations }) =>
      printMessage(
        appliedMigrations.length === 0 ? 'Database already up to date: no migration applied.' : `Applied ${appliedMigrations.length} migration(s):\n${appliedMigrations.map((m) => `  ${m}`).join('\n')}`,
        { applied: appliedMigrations },
        opts,
      ),
    );
  });

const tenants = program.command('tenants').description('Manage tenants');
tenants
  .command('create <id>')
  .description('Create a tenant')
  .option('--name <name>', 'display name (defaults to the id)')
  .option(...JSON_OPTION)
  .action(async (id: string, opts: OutputOptions & { name?: string }) => {
    await withRuntime(async ({ services }) => {
      printRecords(await services.tenants.create(cliAdmin, { id, name: opts.name ?? id }), tenantColumns, opts);
    });
  });
tenants
  .command('list')
  .description('List tenants')
  .option(...JSON_OPTION)
  .action(async (opts: OutputOptions) => {
    await withRuntime(async ({ services }) => {
      const all: Tenant[] = [];
      for (let page = await services.tenants.list(cliAdmin, 1000); page.length > 0; page = await services.tenants.list(cliAdmin, 1000, page.at(-1)!.id)) all.push(...page);
      printRecords(all, tenantColumns, opts);
    });
  });
tenants
  .command('delete <id>')
  .description('Delete a tenant with all its users, directory, credentials and events (not the default tenant)')
  .requiredOption('--yes', 'confirm the deletion (required)')
  .option(...JSON_OPTION)
  .action(async (id: string, opts: OutputOptions) => {
    await withRuntime(async ({ services }) => {
      // The service refuses the default tenant and names an unknown one (tenant.not_found).
      await naming(id, services.tenants.delete(cliAdmin, id));
      printMessage(`Tenant ${id} deleted; its tokens stopped working at once.`, { deleted: id }, opts);
    });
  });

const clients = program.command('clients').description('Manage API clients (OAuth 2.0 client credentials)');
clients
  .command('create')
  .description('Create an API client and print its secret (shown once)')
  .requiredOption('--tenant <id>', 'tenant the client belongs to (required)')
  .requiredOption('--scopes <scopes>', `comma- or space-separated: ${SCOPES.join(',')} (required)`)
  .option('--name <name>', 'display name', 'CLI client')
  .option(...JSON_OPTION)
  .action(async (opts: OutputOptions & { tenant: string; scopes: string; name: string }) => {
    await withRuntime(async (runtime) => {
      await requireTenant(runtime, opts.tenant);
      const { client, secret } = await runtime.services.clients.create(cliAdmin, { name: opts.name, scopes: opts.scopes.split(/[\s,]+/).filter(Boolean), tenantId: opts.tenant });
      printRecords({ client, secret }, [...clientColumns.map(([h, v]): Column<{ client: ApiClient; secret: string }> => [h, (r) => v(r.client)]), ['client_secret', (r) => r.secret]], opts, (r) => ({
        ...clientJson(r.client),
        clientSecret: r.secret,
      }));
      if (!opts.json) console.log('The secret is shown only now; only a hash is stored.');
    });
  });
clients
  .command('list')
  .description('List the API clients of a tenant')
  .requiredOption('--tenant <id>', 'tenant (required)')
  .option(...JSON_OPTION)
  .action(async (opts: OutputOptions & { tenant: string }) => {
    await withRuntime(async (runtime) => {
      await requireTenant(runtime, opts.tenant);
      printRecords(await allClients(runtime, opts.tenant), clientColumns, opts, clientJson);
    });
  });
clients
  .command('delete <id>')
  .description('Delete an API client (by id or client_id); its tokens stop working at once')
  .requiredOption('--tenant <id>', 'tenant the client belongs to (required)')
  .option(...JSON_OPTION)
  .action(async (id: string, opts: OutputOptions & { tenant: string }) => {
    await withRuntime(async (runtime) => {
      await requireTenant(runtime, opts.tenant);
      const client = (await allClients(runtime, opts.tenant)).find((c) => c.id === id || c.clientId === id);
      if (!client) throw new AppError('client.not_found', `No client "${id}" in tenant "${opts.tenant}" (see roster clients list --tenant ${opts.tenant}).`);
      await runtime.services.clients.delete(systemPrincipal(opts.tenant, 'cli'), client.id);
      printMessage(`Client ${client.clientId} deleted; its tokens stopped working at once.`, { deleted: clientJson(client) }, opts);
    });
  });

async function allClients(runtime: Runtime, tenantId: string): Promise<ApiClient[]> {
  const all: ApiClient[] = [];
  for (let page = await runtime.services.clients.list(cliAdmin, tenantId, 1000); page.length > 0; page = await runtime.services.clients.list(cliAdmin, tenantId, 1000, page.at(-1)!.id)) {
    all.push(...page);
  }
  return all;
}

program
  .command('users')
  .description('Read users')
  .command('list')
  .description('List users of a tenant')
  .option('--tenant <id>', 'tenant', DEFAULT_TENANT_ID)
  .option('--filter <odata>', "OData $filter, e.g. \"department eq 'Sales'\"")
  .option('--top <n>', 'how many (1–1000)', positiveInt, 100)
  .option(...JSON_OPTION)
  .action(async (opts: OutputOptions & { tenant: string; filter?: string; top: number }) => {
    // A bad filter is reported before the database is opened.
    const filter = opts.filter ? parseODataFilter(opts.filter) : undefined;
    await withRuntime(async (runtime) => {
      await requireTenant(runtime, opts.tenant);
      const page = await runtime.services.users.list(systemPrincipal(opts.tenant, 'cli'), { filter, sort: [], page: { size: opts.top }, count: false });
      printRecords(
        page.items.map((u) => ({ id: u.id, userName: u.userName, email: u.email, displayName: u.displayName, status: u.status })),
        [
          ['id', (u) => u.id],
          ['userName', (u) => u.userName],
          ['email', (u) => u.email],
          ['displayName', (u) => u.displayName],
          ['status', (u) => u.status],
        ],
        opts,
      );
      if (!opts.json && page.nextCursor) console.log(`(first ${opts.top}; more with --top)`);
    });
  });

program
  .command('keys')
  .description('Manage token signing keys')
  .command('rotate')
  .description('Start signing with a new key; tokens signed with the old key stay valid until they expire')
  .option(...JSON_OPTION)
  .action(async (opts: OutputOptions) => {
    await withRuntime(async ({ services }) => {
      const kid = await services.signingKeys.rotate();
      // SigningKeyService: a process reloads its keys when its copy is a minute old, and at once
      // when it meets a token signed with a key id it does not know.
      printMessage(
        `New signing key ${kid}.\n` +
          'Running servers sign new tokens with it within 60 s (each reloads its keys every minute) and accept tokens signed with it at once.\n' +
          'Tokens signed with the previous key stay valid until they expire (ACCESS_TOKEN_TTL_SECONDS).',
        { kid, serversSignWithinSeconds: 60 },
        opts,
      );
    });
  });

/*
 * export and sync talk to a running server over HTTP (http-client.ts), not to the database:
 * they need only a URL and credentials, and the server's scopes apply to them.
 */
const SERVER_OPTIONS = {
  url: ['--url <url>', 'the Roster server (default: ROSTER_URL, else http://127.0.0.1:3000)'],
  token: ['--token <token>', 'a bearer token (default: ROSTER_TOKEN; else client credentials from ROSTER_CLIENT_ID and ROSTER_CLIENT_SECRET)'],
} as const;
interface ServerCommandOptions {
  url?: string;
  token?: string;
}

/** Usage errors of export and sync (unknown option, bad value, missing option) exit 2, as their help says. */
const usageExit = (error: CommanderError) => process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);

const wholeNumber = (name: string) => (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
  return Number(value);
};
const formatOption = () => new Option('--format <format>', 'file format (default: from the file name, else csv)').choices(SYNC_FILE_FORMATS);

program
  .command('export')
  .description('Write the users of a running server as CSV, JSON or NDJSON, in the form roster sync reads back (export then sync plans no change)')
  .addOption(formatOption())
  .option('--filter <odata>', "OData $filter selecting the users, e.g. \"department eq 'Sales'\" (default: all)")
  .option('--out <file>', 'write to this file (default: stdout)')
  .option('--origin <origin>', 'the key column holds each user\'s external id of this origin; users without one are skipped')
  .option(...SERVER_OPTIONS.url)
  .option(...SERVER_OPTIONS.token)
  .exitOverride(usageExit)
  .action(async (opts: ServerCommandOptions & { format?: SyncFileFormat; filter?: string; out?: string; origin?: string }) => {
    const format: SyncFileFormat = opts.format ?? (opts.out && /\.(csv|json|ndjson|jsonl)$/i.test(opts.out) ? syncFileFormat(opts.out) : 'csv');
    const client = new RosterClient(serverOptions(opts));
    await client.authenticate();
    const output = await openOutput(opts.out);
    const result = await exportUsers(client, { format, filter: opts.filter, origin: opts.origin, out: output.stream }).finally(() => output.close());
    const skipped = result.skipped > 0 ? `; ${result.skipped} user${result.skipped === 1 ? '' : 's'} without an external id of origin ${opts.origin} skipped` : '';
    console.error(`Exported ${result.exported} user${result.exported === 1 ? '' : 's'}${opts.out ? ` to ${opts.out}` : ''}${skipped}.`);
  });

program
  .command('sync <file>')
  .description(
    'Sync the users of an origin with a file (CSV, JSON array or NDJSON) through a running server: check every row, plan, show the plan, apply with --apply.\n' +
      'Exit codes: 0 done (or planned without errors), 1 bad rows, errors in the plan, a held plan with --apply, a failure; 2 wrong usage.\n' +
      'The file format, the column mapping and an example are in docs/sync-cli.md.',
  )
  .requiredOption('--origin <origin>', 'the source system whose keys the file holds, e.g. hr (required)')
  .option('--map <mapping.json>', 'column mapping: {"columns": {"Employee ID": "key", "Groups": {"field": "groups", "split": ";"}}, "ignore": [...]}')
  .addOption(new Option('--missing <what>', 'what happens to users of the origin absent from the file (server default: suspend)').choices(['suspend', 'ignore']))
  .option('--max-deactivations <n|p%>', 'hold the plan when it would suspend more than this many users (or this share of the origin\'s users)', parseMaxDeactivations)
  .option('--max-changes <n>', 'hold the plan when it would change more than this many users', wholeNumber('--max-changes'))
  .option('--apply', 'apply the plan (without it, nothing changes)', false)
  .option('--force', 'with --apply: apply a held plan', false)
  .addOption(formatOption())
  .option(...SERVER_OPTIONS.url)
  .option(...SERVER_OPTIONS.token)
  .exitOverride(usageExit)
  .action(async (
    file: string,
    opts: ServerCommandOptions & { origin: string; map?: string; missing?: 'suspend' | 'ignore'; maxDeactivations?: number | string; maxChanges?: number; apply: boolean; force: boolean; format?: SyncFileFormat },
  ) => {
    if (opts.force && !opts.apply) throw new CliError('--force only makes sense with --apply', EXIT_USAGE);
    const format = syncFileFormat(file, opts.format);
    const mapping = opts.map === undefined ? undefined : loadMapping(opts.map);
    const client = new RosterClient(serverOptions(opts));
    const result = await syncFile(client, {
      file,
      origin: opts.origin,
      format,
      mapping,
      missing: opts.missing,
      maxDeactivations: opts.maxDeactivations,
      maxChanges: opts.maxChanges,
      apply: opts.apply,
      force: opts.force,
      out: process.stdout,
      err: process.stderr,
      color: useColor(process.stdout),
    });
    process.exitCode = result.exitCode;
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CliError) {
    console.error(`error: ${error.message}`);
    process.exit(error.exitCode);
  }
  if (error instanceof AppError) {
    console.error(`error: ${error.code}: ${error.message}`);
  } else if (error instanceof StartupError) {
    console.error(`error: ${error.message}`);
  } else {
    // Not a failure an operator can fix by a setting: keep the stack trace for the bug report.
    console.error(error);
  }
  process.exit(1);
});
