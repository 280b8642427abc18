import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { checkDatabase } from './db/database-check.js';
import { StartupError } from './errors/startup-error.js';
import { buildApp } from './http/app.js';
import { keepHousekeepingScheduled } from './jobs/housekeeping-job.js';
import { openRuntime, type Runtime } from './runtime.js';

/**
 * Starts Roster: check that the port is free and the database usable, migrate, listen,
 * bootstrap the default tenant and admin client, and shut down cleanly on SIGINT/SIGTERM
 * (in-flight requests finish, the job runner stops, the database closes, exit code 0).
 *
 * A start-up failure an operator fixes (port in use, database missing or unreachable, data path
 * not writable) is a StartupError, thrown before anything is created or migrated: the port is
 * taken first and held while the database is checked and migrated, then handed to Fastify.
 */
export async function startServer(config: Config): Promise<FastifyInstance> {
  const releasePort = await holdPort(config);
  let runtime: Runtime;
  try {
    await checkDatabase(config.databaseUrl);
    runtime = await openRuntime(config);
  } catch (error) {
    await releasePort();
    throw error;
  }
  let app: FastifyInstance;
  try {
    app = await buildApp({ config, services: runtime.services });
  } catch (error) {
    await releasePort();
    await runtime.close();
    throw error;
  }
  // JOB_CONCURRENCY=0: this process serves the API only; others run the jobs.
  const runner = config.jobConcurrency > 0 ? runtime.jobRunner({ log: app.log }) : undefined;
  // Replaced once housekeeping is scheduled (after listen); a stop before that has nothing to stop.
  let stopHousekeeping = (): void => undefined;
  const stop = async () => {
    stopHousekeeping();
    await app.close();
    // Running jobs get a grace period; any still running afterwards is retried by another
    // process once its lease expires.
    await runner?.stop(10_000);
    await runtime.close();
  };
  // /readyz answers 503 until the admin client is bootstrapped: a client that waits for
  // readiness can then get a token at once.
  runtime.services.health.markStarting();
  try {
    // The probe lets go of the port only now; another process taking it in between is still
    // reported as a port in use.
    await releasePort();
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await stop();
    throw listenError(config, error);
  }

  // From here a signal stops the server cleanly. A second Ctrl-C while stopping kills at once
  // (the handlers are `once`), for when a request or job does not finish.
  const shutdown = (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    // Whatever hangs (a request or job that never ends, a pool that never drains), the process
    // exits: the jobs' grace period plus a margin.
    setTimeout(() => {
      app.log.error('shutdown took longer than 20 s; exiting');
      process.exit(1);
    }, 20_000).unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);

  // Every process asks for the recurring housekeeping job (and again every 15 minutes, in case it
  // died); its unique key keeps it to one.
  stopHousekeeping = await keepHousekeepingScheduled(runtime.services, app.log);
  runner?.start();

  // Bootstrapping after listen succeeded: a generated secret must never be created and then lost
  // because the port was taken (the next start would not print it again).
  const boot = await runtime.services.clients.bootstrap(
    config.adminClientId && config.adminClientSecret ? { clientId: config.adminClientId, clientSecret: config.adminClientSecret } : undefined,
  );
  if (boot?.generatedSecret) {
    // Printed once on the console, deliberately not through the logger: log pipelines keep
    // lines forever, and only a hash of this secret is stored.
    process.stdout.write(
      `\n  Roster bootstrap admin client created (this secret is shown only now):\n` +
        `    client_id:     ${boot.clientId}\n    client_secret: ${boot.generatedSecret}\n` +
        `  Get a token:  curl -s -u '${boot.clientId}:<secret>' -d grant_type=client_credentials ${config.issuer}/v1/oauth/token\n` +
        `  API docs:     ${config.issuer}/docs\n\n`,
    );
  } else if (!boot) {
    app.log.info('the admin client exists: its secret was printed at the first start only; for new credentials run `npx roster clients create --tenant default --scopes admin` or set ROSTER_ADMIN_CLIENT_ID and ROSTER_ADMIN_CLIENT_SECRET');
  }

  runtime.services.health.markStarted();
  return app;
}

/**
 * Binds the configured address with a plain TCP server, so that a port in use is found before
 * the database is touched. Returns the function that lets go of it (idempotent). Port 0 (any free
 * port, for tests) needs no probe.
 */
async function holdPort(config: Config): Promise<() => Promise<void>> {
  if (config.port === 0) return async () => undefined;
  // A client that connects meanwhile (a readiness poller) is reset at once: it retries, and an
  // open connection would keep close() from ever finishing.
  const probe = createServer((socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ port: config.port, host: config.host, exclusive: true }, () => resolve());
    });
  } catch (error) {
    throw listenError(config, error);
  }
  let released: Promise<void> | undefined;
  return () => (released ??= new Promise<void>((resolve) => probe.close(() => resolve())));
}

/** A listen failure as one line naming the variable to change; other errors unchanged. */
function listenError(config: Config, error: unknown): unknown {
  const code = (error as { code?: string }).code;
  const line =
    code === 'EADDRINUSE' ? `port ${config.port} is in use on ${config.host}; set PORT (another Roster may be running)`
    : code === 'EACCES' ? `port ${config.port} on ${config.host} needs privileges this process lacks; set PORT to 1024 or above`
    : code === 'EADDRNOTAVAIL' ? `HOST=${config.host} is not an address of this machine; set HOST`
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `HOST=${config.host} cannot be resolved; set HOST`
    : undefined;
  return line === undefined ? error : new StartupError(line, { cause: error });
}
