import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { buildApp } from './http/app.js';
import { scheduleHousekeeping } from './jobs/housekeeping-job.js';
import { openRuntime } from './runtime.js';

/**
 * Starts Roster: migrate, listen, bootstrap the default tenant and admin client, and shut down
 * cleanly on SIGINT/SIGTERM (in-flight requests finish, then the database closes).
 */
export async function startServer(config: Config): Promise<FastifyInstance> {
  const runtime = await openRuntime(config);
  const app = await buildApp({ config, services: runtime.services });
  // JOB_CONCURRENCY=0: this process serves the API only; others run the jobs.
  const runner = config.jobConcurrency > 0 ? runtime.jobRunner({ log: app.log }) : undefined;
  const stop = async () => {
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
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await stop();
    throw error;
  }

  // Every process asks for the recurring housekeeping job; its unique key keeps it to one.
  await scheduleHousekeeping(runtime.services);
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
  }

  runtime.services.health.markStarted();

  const shutdown = (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return app;
}
