import { describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';

const suite = useApiSuite();
const { unique } = suite;
const request = suite.request.bind(suite);

async function post(url: string, payload: Record<string, unknown>) {
  const res = await request({ method: 'POST', url, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const get = async (url: string) => {
  const res = await request({ method: 'GET', url });
  expect(res.statusCode, res.body).toBe(200);
  return { body: res.json(), etag: res.headers.etag };
};

describe('versions that move with memberships', () => {
  it('adding and removing a member changes the ETag of the group and of the user; a stale If-Match then fails', async () => {
    const user = await post('/v1/users', { userName: unique('m') });
    const group = await post('/v1/groups', { name: unique('g') });
    const before = await get(`/v1/groups/${group.id}`);

    expect((await request({ method: 'POST', url: `/v1/groups/${group.id}/members/${user.id}` })).statusCode).toBe(201);
    const afterAdd = await get(`/v1/groups/${group.id}`);
    expect(afterAdd.etag).not.toBe(before.etag);
    expect(afterAdd.body.version).toBe(before.body.version + 1);
    expect((await get(`/v1/users/${user.id}`)).body.version).toBe(2);

    // Adding again changes nothing: no new version anywhere.
    expect((await request({ method: 'POST', url: `/v1/groups/${group.id}/members/${user.id}` })).statusCode).toBe(200);
    expect((await get(`/v1/groups/${group.id}`)).body.version).toBe(afterAdd.body.version);

    const stale = await request({ method: 'PATCH', url: `/v1/groups/${group.id}`, headers: { 'if-match': before.etag as string }, payload: { description: 'x' } });
    expect(stale.statusCode).toBe(412);

    expect((await request({ method: 'DELETE', url: `/v1/users/${user.id}/groups/${group.id}` })).statusCode).toBe(204);
    expect((await get(`/v1/groups/${group.id}`)).body.version).toBe(afterAdd.body.version + 1);
    expect((await get(`/v1/users/${user.id}`)).body.version).toBe(3);
  });

  it('a full replace moves the version of every role added or removed, and not of the ones kept', async () => {
    const user = await post('/v1/users', { userName: unique('r') });
    const [kept, dropped, added] = [await post('/v1/roles', { name: unique('kept') }), await post('/v1/roles', { name: unique('dropped') }), await post('/v1/roles', { name: unique('added') })];
    await request({ method: 'PUT', url: `/v1/users/${user.id}/roles`, payload: [{ id: kept.id }, { id: dropped.id }] });
    const versions = async () => Promise.all([kept, dropped, added].map(async (r) => (await get(`/v1/roles/${r.id}`)).body.version as number));
    const before = await versions();
    await request({ method: 'PUT', url: `/v1/users/${user.id}/roles`, payload: [{ id: kept.id }, { id: added.id }] });
    const after = await versions();
    expect(after).toEqual([before[0], (before[1] as number) + 1, (before[2] as number) + 1]);
  });

  it('changing environment permissions moves the environment version; deleting a user moves its groups; deleting a group moves its members', async () => {
    const user = await post('/v1/users', { userName: unique('e') });
    const other = await post('/v1/users', { userName: unique('o') });
    const env = await post('/v1/environments', { name: unique('env') });
    const group = await post('/v1/groups', { name: unique('g2') });
    await request({ method: 'POST', url: `/v1/users/${user.id}/environments/${env.id}`, payload: { permissions: ['view'] } });
    const v1 = (await get(`/v1/environments/${env.id}`)).body.version;
    await request({ method: 'POST', url: `/v1/users/${user.id}/environments/${env.id}`, payload: { permissions: ['view', 'run'] } });
    expect((await get(`/v1/environments/${env.id}`)).body.version).toBe(v1 + 1);

    await request({ method: 'POST', url: `/v1/groups/${group.id}/members/${user.id}` });
    await request({ method: 'POST', url: `/v1/groups/${group.id}/members/${other.id}` });
    const g1 = (await get(`/v1/groups/${group.id}`)).body.version;
    expect((await request({ method: 'DELETE', url: `/v1/users/${user.id}` })).statusCode).toBe(204);
    expect((await get(`/v1/groups/${group.id}`)).body.version).toBe(g1 + 1);

    const otherBefore = (await get(`/v1/users/${other.id}`)).body.version;
    expect((await request({ method: 'DELETE', url: `/v1/groups/${group.id}` })).statusCode).toBe(204);
    expect((await get(`/v1/users/${other.id}`)).body.version).toBe(otherBefore + 1);
  });
});

describe('If-Match on memberships names the version of the side the URL addresses', () => {
  it('refuses a stale user or group version with 412 and changes nothing; the current one works', async () => {
    const user = await post('/v1/users', { userName: unique('im') });
    const group = await post('/v1/groups', { name: unique('img') });
    const stale = 'W/"99"';
    const attempts = [
      { method: 'PUT' as const, url: `/v1/users/${user.id}/groups`, payload: [{ id: group.id }] },
      { method: 'POST' as const, url: `/v1/users/${user.id}/groups/${group.id}` },
      { method: 'POST' as const, url: `/v1/groups/${group.id}/members/${user.id}` },
    ];
    for (const a of attempts) {
      const res = await request({ ...a, headers: { 'if-match': stale } });
      expect(res.statusCode, `${a.method} ${a.url}`).toBe(412);
    }
    expect((await get(`/v1/users/${user.id}/groups`)).body.items).toEqual([]);

    const added = await request({ method: 'POST', url: `/v1/groups/${group.id}/members/${user.id}`, headers: { 'if-match': 'W/"1"' } });
    expect(added.statusCode).toBe(201);
    const groupNow = await get(`/v1/groups/${group.id}`);
    expect((await request({ method: 'DELETE', url: `/v1/groups/${group.id}/members/${user.id}`, headers: { 'if-match': 'W/"1"' } })).statusCode).toBe(412);
    expect((await request({ method: 'DELETE', url: `/v1/users/${user.id}/groups/${group.id}`, headers: { 'if-match': 'W/"1"' } })).statusCode).toBe(412);
    const removed = await request({ method: 'DELETE', url: `/v1/groups/${group.id}/members/${user.id}`, headers: { 'if-match': groupNow.etag as string } });
    expect(removed.statusCode).toBe(204);
  });
});

describe('read-check-write under concurrency', () => {
  it('16 parallel DELETEs of one user: exactly one 204, one user.deleted event, one detach event per report', async () => {
    const boss = await post('/v1/users', { userName: unique('boss') });
    const report = await post('/v1/users', { userName: unique('rep'), managerId: boss.id });
    const results = await Promise.all(Array.from({ length: 16 }, () => request({ method: 'DELETE', url: `/v1/users/${boss.id}` })));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 204)).toHaveLength(1);
    expect(codes.filter((c) => c !== 204).every((c) => c === 404)).toBe(true);
    const history = (await get(`/v1/users/${boss.id}/history`)).body.items as { type: string }[];
    expect(history.filter((e) => e.type === 'user.deleted')).toHaveLength(1);
    const reportHistory = (await get(`/v1/users/${report.id}/history`)).body.items as { type: string }[];
    expect(reportHistory.filter((e) => e.type === 'user.updated')).toHaveLength(1);
  });

  it('16 parallel PATCHes without If-Match all succeed, each on the latest version', async () => {
    const user = await post('/v1/users', { userName: unique('p') });
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => request({ method: 'PATCH', url: `/v1/users/${user.id}`, payload: { tags: [`t${i}`] } })),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(16).fill(200));
    expect(new Set(results.map((r) => r.json().version)).size).toBe(16);
    expect((await get(`/v1/users/${user.id}`)).body.version).toBe(17);
  });

  it('16 parallel DELETEs of one role: one 204 and one role.deleted event', async () => {
    const role = await post('/v1/roles', { name: unique('role') });
    const results = await Promise.all(Array.from({ length: 16 }, () => request({ method: 'DELETE', url: `/v1/roles/${role.id}` })));
    expect(results.filter((r) => r.statusCode === 204)).toHaveLength(1);
    const events = (await get(`/v1/events?resourceId=${role.id}&limit=100`)).body.items as { type: string }[];
    expect(events.filter((e) => e.type === 'role.deleted')).toHaveLength(1);
  });

  it('deleting groups and their members at the same time: one 204 per resource, never a 5xx, exact event lists', async () => {
    for (let round = 0; round < 3; round++) {
      const groups = [await post('/v1/groups', { name: unique('dg') }), await post('/v1/groups', { name: unique('dg') })];
      const users = await Promise.all(Array.from({ length: 6 }, () => post('/v1/users', { userName: unique('du') })));
      for (const u of users) await request({ method: 'PUT', url: `/v1/users/${u.id}/groups`, payload: groups.map((g) => ({ id: g.id })) });
      const results = await Promise.all([
        ...groups.map((g) => request({ method: 'DELETE', url: `/v1/groups/${g.id}` })),
        ...users.map((u) => request({ method: 'DELETE', url: `/v1/users/${u.id}` })),
      ]);
      expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(204));
    }
  });

  it('events of concurrent group deletes chain exactly: each one starts where the previous ended', async () => {
    for (let round = 0; round < 3; round++) {
      const user = await post('/v1/users', { userName: unique('chain') });
      const groups = [await post('/v1/groups', { name: unique('cg') }), await post('/v1/groups', { name: unique('cg') }), await post('/v1/groups', { name: unique('cg') })];
      await request({ method: 'PUT', url: `/v1/users/${user.id}/groups`, payload: groups.map((g) => ({ id: g.id })) });
      await Promise.all(groups.slice(0, 2).map((g) => request({ method: 'DELETE', url: `/v1/groups/${g.id}` })));
      const events = ((await get(`/v1/users/${user.id}/history`)).body.items as { type: string; changes: { groups?: { from: string[]; to: string[] } } }[])
        .filter((e) => e.type === 'user.memberships_changed')
        .reverse();
      for (let i = 1; i < events.length; i++) expect(events[i]?.changes.groups?.from).toEqual(events[i - 1]?.changes.groups?.to);
      const now = (await get(`/v1/users/${user.id}/groups`)).body.items.map((g: { id: string }) => g.id);
      expect(events.at(-1)?.changes.groups?.to).toEqual(now);
      expect(now).toEqual([groups[2].id]);
    }
  });

  it('adding members while the role is deleted: each add is a 201 or a 404, never a conflict', async () => {
    const role = await post('/v1/roles', { name: unique('vanishing') });
    const users = await Promise.all(Array.from({ length: 8 }, () => post('/v1/users', { userName: unique('adder') })));
    const results = await Promise.all([
      ...users.map((u) => request({ method: 'POST', url: `/v1/roles/${role.id}/members/${u.id}` })),
      request({ method: 'DELETE', url: `/v1/roles/${role.id}` }),
    ]);
    const adds = results.slice(0, 8).map((r) => r.statusCode);
    expect(adds.every((c) => c === 201 || c === 404), adds.join(',')).toBe(true);
    expect(results[8]?.statusCode).toBe(204);
  });
});
