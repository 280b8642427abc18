/**
 * `npm run lint:openapi`: builds the app on a throw-away SQLite database, takes the OpenAPI
 * document from it (GET /openapi.json through inject: no server, no port) and runs
 * `redocly lint` on it with the committed redocly.yaml. Exits with redocly's status.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { openRuntime } from '../src/runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'roster-openapi-'));
let status = 1;
try {
  const config = loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'roster.db')}`, LOG_LEVEL: 'silent' });
  const runtime = await openRuntime(config);
  try {
    const app = await buildApp({ config, services: runtime.services, logger: false });
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    await app.close();
    if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`);
    const file = join(dir, 'openapi.json');
    writeFileSync(file, response.body);
    const redocly = spawnSync('npx', ['--no-install', 'redocly', 'lint', '--config', 'redocly.yaml', file], { stdio: 'inherit' });
    status = redocly.status ?? 1;
  } finally {
    await runtime.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
