import { describe, expect, it } from 'vitest';
import { systemPrincipal } from '../../src/domain/principal.js';
import { changeMembers } from '../../src/services/commands/membership-commands.js';
import { createUsers } from '../../src/services/commands/user-commands.js';
import { useApiSuite } from '../helpers/test-app.js';

const s = useApiSuite();
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** More members than SQLite binds in one statement (32,766): every list must go in chunks. */
const MEMBERS = 33_000;

describe('a SCIM group of tens of thousands of members', () => {
  it('is built, served (or not, with excludedAttributes=members), patched, emptied and deleted', { timeout: 180_000 }, async () => {
    const token = (await s.request({ method: 'POST', url: '/v1/api-tokens', payload: { name: s.unique('big'), scopes: ['scim'], origin: 'big', owns: 'all' } })).json().token as string;
    const scim = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
      s.request({ method, url, token, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
    const prefix = s.unique('m');
    const rows = Array.from({ length: MEMBERS + 100 }, (_, i) => ({ input: { userName: `${prefix}-${i}@big.test` } }));
    const outcomes = await s.t.runtime.services.units.run(systemPrincipal('default', 'test'), createUsers(rows));
    const ids = outcomes.map((o) => (o.ok ? o.value.id : ''));
    expect(ids.every((id) => id !== '')).toBe(true);

    const group = (await scim('POST', '/scim/v2/Groups', { displayName: s.unique('Everyone') })).json();
    for (let i = 0; i < MEMBERS; i += 5500) {
      const added = await scim('PATCH', `/scim/v2/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: ids.slice(i, Math.min(i + 5500, MEMBERS)).map((value) => ({ value })) }] });
      expect(added.statusCode, added.body).toBe(204);
    }
    const full = await scim('GET', `/scim/v2/Groups/${group.id}`);
    expect(full.json().members).toHaveLength(MEMBERS);
    const lean = await scim('GET', `/scim/v2/Groups/${group.id}?excludedAttributes=members`);
    expect(lean.json().members).toBeUndefined();
    expect(lean.json().meta.version).toBe(full.json().meta.version);

    const more = await scim('PATCH', `/scim/v2/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: ids.slice(MEMBERS).map((value) => ({ value })) }] });
    expect(more.statusCode, more.body).toBe(204);
    const emptied = await scim('PATCH', `/scim/v2/Groups/${group.id}?excludedAttributes=members`, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'members' }] });
    expect(emptied.statusCode, emptied.body).toBe(200);
    const after = await scim('GET', `/scim/v2/Groups/${group.id}`);
    expect(after.json().members).toBeUndefined();
    const history = await s.request({ method: 'GET', url: `/v1/users/${ids[MEMBERS - 1]}/history` });
    expect(history.json().items.map((e: { type: string }) => e.type).slice(0, 2)).toEqual(['user.memberships_changed', 'user.memberships_changed']);

    // Deleting a group of that size takes every member's membership with it, one event each.
    const second = (await scim('POST', '/scim/v2/Groups', { displayName: s.unique('Everyone again') })).json();
    await s.t.runtime.services.units.run(systemPrincipal('default', 'test'), changeMembers('groups', second.id, { add: ids.slice(0, MEMBERS), remove: [] }));
    const deleted = await s.request({ method: 'DELETE', url: `/scim/v2/Groups/${second.id}`, token });
    expect(deleted.statusCode, deleted.body).toBe(204);
    const last = await s.request({ method: 'GET', url: `/v1/users/${ids[0]}/history?$top=1` });
    expect(last.json().items[0]).toMatchObject({ type: 'user.memberships_changed', changes: { groups: { to: [] } } });
  });
});
