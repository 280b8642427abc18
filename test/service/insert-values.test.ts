import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { insertValues } from '../../src/repositories/insert-values.js';
import { useServiceRuntime, type ServiceRuntime } from '../helpers/service-runtime.js';

let s: ServiceRuntime;
useServiceRuntime((runtime) => {
  s = runtime;
});

const db = () => s.runtime.database.db;
let seq = 0;
const tenant = () => `iv-${++seq}-${Date.now().toString(36)}`;

async function newTenant(): Promise<string> {
  const id = tenant();
  await s.runtime.services.tenants.create(s.principal, { id, name: id });
  return id;
}

async function namesOf(tenantId: string) {
  return db().selectFrom('user_external_ids').select(['origin', 'key', 'user_id']).where('tenant_id', '=', tenantId).orderBy('key').execute();
}

describe('insertValues: cached SQL text for inserts of the same shape', () => {
  it('stores every row of every shape with its own values, when the shape is reused and when it is new', async () => {
    const t = await newTenant();
    const user = await s.runtime.services.users.create({ ...s.principal, tenantId: t }, { userName: `u-${t}` });
    // The same shape three times (cached after the first), then two rows, then one again.
    for (const key of ['a', 'b', 'c']) await insertValues(db(), s.dialect, 'user_external_ids', [{ tenant_id: t, origin: 'hr', key, user_id: user.id }]);
    await insertValues(db(), s.dialect, 'user_external_ids', [
      { tenant_id: t, origin: 'hr', key: 'd', user_id: user.id },
      { tenant_id: t, origin: 'crm', key: 'e', user_id: user.id },
    ]);
    await insertValues(db(), s.dialect, 'user_external_ids', [{ tenant_id: t, origin: 'x', key: 'f', user_id: user.id }]);
    expect(await namesOf(t)).toEqual([
      { origin: 'hr', key: 'a', user_id: user.id },
      { origin: 'hr', key: 'b', user_id: user.id },
      { origin: 'hr', key: 'c', user_id: user.id },
      { origin: 'hr', key: 'd', user_id: user.id },
      { origin: 'crm', key: 'e', user_id: user.id },
      { origin: 'x', key: 'f', user_id: user.id },
    ]);
  });

  it('binds values by column name whatever the key order of the row', async () => {
    const t = await newTenant();
    const user = await s.runtime.services.users.create({ ...s.principal, tenantId: t }, { userName: `u-${t}` });
    await insertValues(db(), s.dialect, 'user_external_ids', [{ tenant_id: t, origin: 'o1', key: 'k1', user_id: user.id }]);
    await insertValues(db(), s.dialect, 'user_external_ids', [{ user_id: user.id, key: 'k2', origin: 'o2', tenant_id: t }]);
    expect(await namesOf(t)).toEqual([
      { origin: 'o1', key: 'k1', user_id: user.id },
      { origin: 'o2', key: 'k2', user_id: user.id },
    ]);
  });

  it('reports a constraint violation of a cached shape to the caller, and stores nothing of that statement', async () => {
    const t = await newTenant();
    const user = await s.runtime.services.users.create({ ...s.principal, tenantId: t }, { userName: `u-${t}` });
    const row = (key: string) => ({ tenant_id: t, origin: 'c', key, user_id: user.id });
    await insertValues(db(), s.dialect, 'user_external_ids', [row('k1'), row('k2')]);
    await expect(insertValues(db(), s.dialect, 'user_external_ids', [row('k3'), row('k1')])).rejects.toThrow();
    expect((await namesOf(t)).map((r) => r.key)).toEqual(['k1', 'k2']);
  });

  it('sends a value that is an SQL expression through the query builder', async () => {
    const t = await newTenant();
    const user = await s.runtime.services.users.create({ ...s.principal, tenantId: t }, { userName: `u-${t}` });
    await insertValues(db(), s.dialect, 'user_external_ids', [{ tenant_id: t, origin: 'e', key: sql<string>`lower('KEY')`, user_id: user.id }]);
    expect((await namesOf(t)).map((r) => r.key)).toEqual(['key']);
  });
});
