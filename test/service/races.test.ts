import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DIRECTORY } from '../../src/domain/directory.js';
import { systemPrincipal, type Principal } from '../../src/domain/principal.js';
import { AttributeIndexRepository } from '../../src/repositories/attribute-index-repository.js';
import { argon2Hasher, type SecretHasher } from '../../src/lib/secrets.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { TestClock } from '../helpers/test-app.js';
import { createTestDatabase, testDialect } from '../helpers/test-database.js';

/*
 * Read-check-writes that span processes: several runtimes ("server processes") on one database,
 * each with its own pool and caches. On PostgreSQL there are two runtimes; SQLite is a
 * single-process database here (one connection, one writer), so there the same calls run
 * concurrently inside one runtime.
 */

const dialect = testDialect();
const open: Runtime[] = [];
const drops: (() => Promise<void>)[] = [];

/** Fresh database; two runtimes on PostgreSQL, one on SQLite. */
async function processes(hasher: SecretHasher = argon2Hasher): Promise<Runtime[]> {
  const database = await createTestDatabase();
  drops.push(database.drop);
  const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', ROSTER_ISSUER: 'http://roster.test' });
  const first = await openRuntime(config, { clock: new TestClock(), hasher });
  open.push(first);
  if (dialect === 'sqlite') return [first];
  const second = await openRuntime(config, { clock: new TestClock() });
  open.push(second);
  return [first, second];
}

afterEach(async () => {
  while (open.length > 0) await open.pop()?.close();
});
afterAll(async () => {
  for (const drop of drops) await drop();
});

/** `n` calls at once, spread over the runtimes in turn. */
const spread = <T>(runtimes: Runtime[], n: number, call: (r: Runtime) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => call(runtimes[i % runtimes.length] as Runtime)));

describe('start-up and key rotation across processes', () => {
  it('the first start on an empty database, run at once, generates exactly one admin client and prints one secret', async () => {
    const runtimes = await processes();
    const results = await spread(runtimes, 6, (r) => r.services.clients.bootstrap(undefined));
    expect(results.filter((r) => r?.generatedSecret !== undefined)).toHaveLength(1);
    const admin = systemPrincipal('default', 'test');
    expect(await runtimes[0]?.services.clients.list(admin, undefined, 10)).toHaveLength(1);
  });

  it('starts with the same configured admin credentials at once all succeed, with one client', async () => {
    const runtimes = await processes();
    const credentials = { clientId: 'ops-admin', clientSecret: 'ops-admin-secret-0123456789' };
    const results = await spread(runtimes, 6, (r) => r.services.clients.bootstrap(credentials));
    expect(results).toEqual(Array(6).fill({ clientId: 'ops-admin' }));
    expect(await runtimes[0]?.services.clients.list(systemPrincipal('default', 'test'), undefined, 10)).toHaveLength(1);
  });

  it('the first token requests of every process create one signing key, and all sign with it', async () => {
    const runtimes = await processes();
    const keys = await spread(runtimes, 12, (r) => r.services.signingKeys.signingKey());
    expect(new Set(keys.map((k) => k.kid)).size).toBe(1);
    const stored = await runtimes[0]?.database.db.selectFrom('signing_keys').select(['kid', 'retired_at']).execute();
    expect(stored).toHaveLength(1);
  });

  it('explicit rotations from every process at once leave exactly one active key; every key in use verifies everywhere', async () => {
    const runtimes = await processes();
    const kids = await spread(runtimes, 8, (r) => r.services.signingKeys.rotate());
    const active = await runtimes[0]?.database.db.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).execute();
    expect(active).toHaveLength(1);
    expect(kids).toContain(active?.[0]?.kid);
    // A process may sign with the key it made for up to a minute (its cache; see ARCHITECTURE.md):
    // that key is retired, not gone, so every process still verifies it.
    for (const signer of runtimes) {
      const { kid } = await signer.services.signingKeys.signingKey();
      for (const verifier of runtimes) expect(await verifier.services.signingKeys.verificationKey(kid)).toBeDefined();
    }
  });
});

describe('attribute indexes shared by tenants', () => {
  it('one tenant dropping its indexed definition while another declares the same one never leaves a declared index missing', async () => {
    const runtimes = await processes();
    const [a, b] = [runtimes[0] as Runtime, runtimes.at(-1) as Runtime];
    await a.services.clients.bootstrap(undefined); // the default tenant
    await a.services.tenants.create(systemPrincipal('default', 'test'), { id: 'other', name: 'Other' });
    const tenantA: Principal = systemPrincipal('default', 'test');
    const tenantB: Principal = systemPrincipal('other', 'test');
    const def = DIRECTORY.attribute_definition;
    const indexName = AttributeIndexRepository.indexName('shoeSize', 'string');
    const indexes = () => a.services.store.repos.attributeIndexes.list();
    for (let round = 0; round < 5; round++) {
      const held = await a.services.directory.create(tenantA, def, { name: 'shoeSize', type: 'string', indexed: true });
      expect(await indexes()).toContain(indexName);
      // Tenant A gives the index up at the moment tenant B starts to want it.
      const [, declared] = await Promise.all([
        a.services.directory.delete(tenantA, def, held.id, undefined),
        b.services.directory.create(tenantB, def, { name: 'shoeSize', type: 'string', indexed: true }),
      ]);
      expect(await indexes(), `round ${round}`).toContain(indexName);
      await b.services.directory.delete(tenantB, def, declared.id, undefined);
      expect(await indexes()).not.toContain(indexName);
    }
  });
});

/**
 * The real hasher with a one-shot gate: after `close()`, the next hash or verify does its work
 * and then stops (`reached()` resolves) until `open()`; later calls pass freely. It holds a
 * credential request exactly between checking a secret and storing what follows from it, where a
 * concurrent delete or rotation must still be noticed.
 */
function gatedHasher() {
  let armed = false;
  let release: () => void = () => undefined;
  let arrived: () => void = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  let reached: Promise<void> = Promise.resolve();
  const pass = async <T>(work: () => Promise<T>): Promise<T> => {
    const held = armed;
    armed = false;
    const result = await work();
    if (held) {
      arrived();
      await gate;
    }
    return result;
  };
  return {
    hasher: {
      hash: (secret: string) => pass(() => argon2Hasher.hash(secret)),
      verify: (hash: string, secret: string) => pass(() => argon2Hasher.verify(hash, secret)),
    } satisfies SecretHasher,
    close() {
      armed = true;
      gate = new Promise((resolve) => (release = resolve));
      reached = new Promise((resolve) => (arrived = resolve));
    },
    open: () => release(),
    reached: () => reached,
  };
}

describe('credentials changed while a request holds the old one', () => {
  const admin = systemPrincipal('default', 'test');

  async function setUp() {
    const gate = gatedHasher();
    const [runtime] = (await processes(gate.hasher)) as [Runtime];
    await runtime.services.clients.bootstrap(undefined);
    const { client, secret } = await runtime.services.clients.create(admin, { name: 'svc', scopes: ['users:read'] });
    return { gate, runtime, client, secret };
  }

  it('a secret rotation whose client is deleted before it stores the new secret is a 404', async () => {
    const { gate, runtime, client } = await setUp();
    gate.close();
    const rotation = runtime.services.clients.rotateSecret(admin, client.id);
    await gate.reached();
    await runtime.services.clients.delete(admin, client.id);
    gate.open();
    await expect(rotation).rejects.toMatchObject({ code: 'client.not_found' });
  });

  it('a token request whose client is deleted after its secret was checked is invalid_client, and leaves no refresh token', async () => {
    const { gate, runtime, client, secret } = await setUp();
    gate.close();
    const request = runtime.services.tokens.clientCredentials({ clientId: client.clientId, clientSecret: secret }, undefined);
    await gate.reached();
    await runtime.services.clients.delete(admin, client.id);
    gate.open();
    await expect(request).rejects.toMatchObject({ error: 'invalid_client' });
    expect(await runtime.database.db.selectFrom('refresh_tokens').select('id').execute()).toEqual([]);
  });

  it('a token request checked against a secret that is rotated before the tokens are stored is invalid_client', async () => {
    const { gate, runtime, client, secret } = await setUp();
    gate.close();
    const request = runtime.services.tokens.clientCredentials({ clientId: client.clientId, clientSecret: secret }, undefined);
    await gate.reached(); // the old secret has just been verified
    await runtime.services.clients.rotateSecret(admin, client.id);
    gate.open();
    await expect(request).rejects.toMatchObject({ error: 'invalid_client' });
  });
});
