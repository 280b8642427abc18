/**
 * A/B of two builds of Roster in ONE process on a busy machine: each build gets its own app and
 * SQLite file, and they take turns (rounds of PER requests, alternating which goes first), so
 * whatever else the machine does slows both alike. Prints requests per second of each and the
 * ratio. In-process (app.inject), sequential: it measures the cost of one request, not
 * throughput under concurrency (that is `npm run bench`).
 *
 *   git worktree add /tmp/old <commit> && (cd /tmp/old && ln -s $PWD/node_modules . && npx tsc -p tsconfig.build.json)
 *   npm run build && MODE=create node bench/compare-builds.mjs /tmp/old/dist dist
 *
 * MODE: get (GET /v1/users/{id}), create (POST /v1/users), filter (userName eq); ROUNDS, PER.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
const MODE = process.env.MODE ?? 'get';
async function setup(root) {
  const { loadConfig } = await import(`${root}/config.js`);
  const { openRuntime } = await import(`${root}/runtime.js`);
  const { buildApp } = await import(`${root}/http/app.js`);
  const dir = mkdtempSync(join(tmpdir(), 'ab-'));
  const config = loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'p.db')}`, LOG_LEVEL: 'silent', ROSTER_ADMIN_CLIENT_ID: 'adm', ROSTER_ADMIN_CLIENT_SECRET: 'secret-0123456789-abcdef', ROSTER_ISSUER: 'http://x' });
  const runtime = await openRuntime(config);
  await runtime.services.clients.bootstrap({ clientId: 'adm', clientSecret: 'secret-0123456789-abcdef' });
  const app = await buildApp({ config, services: runtime.services, logger: false });
  const t = await app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials', client_id: 'adm', client_secret: 'secret-0123456789-abcdef' } });
  const auth = `Bearer ${t.json().access_token}`;
  const ids = [];
  let n = 0;
  const create = async () => { const r = await app.inject({ method: 'POST', url: '/v1/users', headers: { authorization: auth, 'content-type': 'application/json' }, payload: body(n++) }); if (r.statusCode !== 201) throw new Error(r.body); return r.json().id; };
  for (let i = 0; i < 300; i++) ids.push(await create());
  const ops = {
    get: async (i) => { const r = await app.inject({ method: 'GET', url: `/v1/users/${ids[i % 300]}`, headers: { authorization: auth } }); if (r.statusCode !== 200) throw new Error(r.body); },
    create: async () => { await create(); },
    filter: async (i) => { const r = await app.inject({ method: 'GET', url: `/v1/users?$filter=${encodeURIComponent(`userName eq 'user${i % 300}@bench.example'`)}`, headers: { authorization: auth } }); if (r.statusCode !== 200) throw new Error(r.body); },
  };
  return { op: ops[MODE], close: async () => { await app.close(); await runtime.close(); } };
}
const body = (i) => JSON.stringify({ email: `user${i}@bench.example`, givenName: `G${i % 997}`, familyName: `F${i % 1009}`, department: `Dept${i % 50}`, employeeId: `E${i}`, externalIds: [{ origin: 'hr', key: String(i) }], attributes: { level: i % 10 } });
const [oldDist, newDist] = process.argv.slice(2);
if (!oldDist || !newDist) {
  console.error('usage: MODE=get|create|filter node bench/compare-builds.mjs <old dist dir> <new dist dir>');
  process.exit(2);
}
const sides = { old: await setup(resolve(oldDist)), new: await setup(resolve(newDist)) };
const total = { old: 0, new: 0 };
const ROUNDS = Number(process.env.ROUNDS ?? 30), PER = Number(process.env.PER ?? 200);
let k = 0;
for (let r = 0; r < ROUNDS + 3; r++) {
  for (const name of r % 2 ? ['old', 'new'] : ['new', 'old']) {
    const t = performance.now();
    for (let i = 0; i < PER; i++) await sides[name].op(k++);
    if (r >= 3) total[name] += performance.now() - t;
  }
}
const rate = (ms) => (ROUNDS * PER / ms * 1000).toFixed(0);
console.log(`${MODE}: old ${rate(total.old)}/s new ${rate(total.new)}/s (new/old ${(total.old / total.new).toFixed(2)})`);
for (const s of Object.values(sides)) await s.close();
