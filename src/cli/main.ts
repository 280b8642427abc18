import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { DEFAULT_TENANT_ID, systemPrincipal } from '../domain/principal.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { startServer } from '../server.js';
import { AppError } from '../errors/app-error.js';
import { parseODataFilter } from '../filter/odata-filter-parser.js';

/**
 * The `roster` command. Every subcommand reads the same environment as the server and calls the
 * same services, so the CLI can never bypass a rule the API enforces.
 */
const program = new Command()
  .name('roster')
  .description('Roster: self-hosted user management and provisioning.\nConfiguration comes from environment variables (DATABASE_URL, PORT, …); see the README.')
  .showHelpAfterError();

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

async function withRuntime(work: (runtime: Runtime) => Promise<void>): Promise<void> {
  const runtime = await openRuntime(config());
  try {
    await work(runtime);
  } finally {
    await runtime.close();
  }
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected a whole number from 1 to 1000');
  return n;
};

program.command('serve').description('Start the HTTP server (migrates the database first)').action(async () => {
  await startServer(config());
});

program.command('migrate').description('Apply pending database migrations and exit').action(async () => {
  await withRuntime(async () => console.log('Database is up to date.'));
});

const tenants = program.command('tenants').description('Manage tenants');
tenants
  .command('create <id>')
  .description('Create a tenant')
  .option('--name <name>', 'display name (defaults to the id)')
  .action(async (id: string, opts: { name?: string }) => {
    await withRuntime(async ({ services }) => {
      const tenant = await services.tenants.create(systemPrincipal(DEFAULT_TENANT_ID, 'cli'), { id, name: opts.name ?? id });
      console.log(JSON.stringify(tenant, null, 2));
    });
  });
tenants.command('list').description('List tenants').action(async () => {
  await withRuntime(async ({ services }) => {
    for (const t of await services.tenants.list(systemPrincipal(DEFAULT_TENANT_ID, 'cli'), 1000)) console.log(`${t.id}\t${t.name}`);
  });
});

program
  .command('clients')
  .description('Manage API clients')
  .command('create')
  .description('Create an API client and print its secret (shown once)')
  .requiredOption('--tenant <id>', 'tenant the client belongs to')
  .requiredOption('--scopes <scopes>', 'comma- or space-separated: users:read,users:write,directory:read,directory:write,admin')
  .option('--name <name>', 'display name', 'CLI client')
  .action(async (opts: { tenant: string; scopes: string; name: string }) => {
    await withRuntime(async ({ services }) => {
      const { client, secret } = await services.clients.create(systemPrincipal(DEFAULT_TENANT_ID, 'cli'), {
        name: opts.name,
        scopes: opts.scopes.split(/[\s,]+/).filter(Boolean),
        tenantId: opts.tenant,
      });
      console.log(`client_id:     ${client.clientId}\nclient_secret: ${secret}\nscopes:        ${client.scopes.join(' ')}\n(The secret is shown only now.)`);
    });
  });

program
  .command('users')
  .description('Read users')
  .command('list')
  .description('List users of a tenant as JSON lines')
  .option('--tenant <id>', 'tenant', DEFAULT_TENANT_ID)
  .option('--filter <odata>', "OData $filter, e.g. \"department eq 'Sales'\"")
  .option('--top <n>', 'how many', positiveInt, 100)
  .action(async (opts: { tenant: string; filter?: string; top: number }) => {
    await withRuntime(async ({ services }) => {
      const filter = opts.filter ? parseODataFilter(opts.filter) : undefined;
      const page = await services.users.list(systemPrincipal(opts.tenant, 'cli'), { filter, sort: [], page: { size: opts.top }, count: false });
      for (const u of page.items) console.log(JSON.stringify({ id: u.id, userName: u.userName, email: u.email, displayName: u.displayName, status: u.status }));
    });
  });

program
  .command('keys')
  .description('Manage token signing keys')
  .command('rotate')
  .description('Start signing with a new key; old keys stay valid until their tokens expire')
  .action(async () => {
    await withRuntime(async ({ services }) => console.log(`New signing key: ${await services.signingKeys.rotate()}`));
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof AppError) {
    console.error(`${error.code}: ${error.message}`);
    process.exit(1);
  }
  console.error(error);
  process.exit(1);
});
