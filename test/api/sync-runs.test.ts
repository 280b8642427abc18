import { describe, expect, it } from 'vitest';
import { useTestApp, type TestApp } from '../helpers/test-app.js';
import { createGroup } from '../helpers/directory-fixtures.js';

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;

interface Run {
  id: string;
  status: string;
  received: number;
  counts: Record<string, number> | null;
  applied: Record<string, number> | null;
  heldReasons: string[];
  jobId: string | null;
}
interface Item {
  seq: number;
  key: string;
  userId: string | null;
  action: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  warnings: { code: string; message: string }[];
  error: { code: string } | null;
  outcome: string | null;
  outcomeError: { code: string } | null;
}

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: Record<string, unknown>, expected?: number) {
  const res = await t.request({ method, url, token, ...(payload ? { payload } : {}) });
  if (expected !== undefined) expect(res.statusCode, res.body).toBe(expected);
  return res;
}

async function startRun(body: Record<string, unknown>, expected = 201): Promise<Run> {
  return (await call('POST', '/v1/sync-runs', body, expected)).json() as Run;
}

async function items(runId: string, action?: string): Promise<Item[]> {
  const all: Item[] = [];
  let url = `/v1/sync-runs/${runId}/items?$top=500${action ? `&action=${action}` : ''}`;
  for (;;) {
    const page = (await call('GET', url, undefined, 200)).json() as { items: Item[]; nextCursor: string | null };
    all.push(...page.items);
    if (!page.nextCursor) return all;
    url = `/v1/sync-runs/${runId}/items?cursor=${page.nextCursor}`;
  }
}

/** Applies (202), runs the job, and returns the run as it ends. */
async function applyRun(runId: string, query = ''): Promise<Run> {
  const started = (await call('POST', `/v1/sync-runs/${runId}/apply${query}`, undefined, 202)).json() as Run;
  expect(started.status).toBe('applying');
  await runJobs();
  return (await call('GET', `/v1/sync-runs/${runId}`, undefined, 200)).json() as Run;
}

async function runJobs(): Promise<void> {
  const runner = t.runtime.jobRunner({ concurrency: 1 });
  while ((await runner.runDue()) > 0);
}

async function userByKey(origin: string, key: string) {
  const res = await call('GET', `/v1/users/by-external-id/${encodeURIComponent(origin)}/${encodeURIComponent(key)}`);
  return res.statusCode === 200 ? (res.json() as { id: string; status: string; title: string | null; version: number }) : undefined;
}

const person = (key: string, extra: Record<string, unknown> = {}) => ({ key, userName: `${key}@example.com`, givenName: key, ...extra });

describe('sync runs: plan → review → apply', () => {
  it('plans creates, updates, unchanged and suspensions with field-level changes, then applies exactly that, with the run id on every event', async () => {
    const origin = unique('hr');
    const [a, b, c, d] = [unique('a'), unique('b'), unique('c'), unique('d')];
    const seed = await t.request({ method: 'POST', url: '/v1/users/bulk', token, payload: { origin, users: [person(a, { title: 'Analyst' }), person(b, { title: 'Clerk' }), person(c)] } });
    expect(seed.statusCode, seed.body).toBe(200);

    // Snapshot: a changes title, b is the same, c is gone, d is new.
    const run = await startRun({ origin, missing: 'suspend', users: [person(a, { title: 'Lead' }), person(b, { title: 'Clerk' }), person(d, { title: 'New' })] });
    expect(run).toMatchObject({ status: 'planned', received: 3, counts: { create: 1, update: 1, reactivate: 0, suspend: 1, unchanged: 1, errors: 0 }, heldReasons: [] });
    const plan = await items(run.id);
    expect(plan.map((i) => [i.key, i.action])).toEqual([[a, 'update'], [b, 'unchanged'], [d, 'create'], [c, 'suspend']]);
    expect(plan[0]?.changes).toEqual({ title: { from: 'Analyst', to: 'Lead' } });
    expect(plan[2]?.changes.title).toEqual({ from: null, to: 'New' });
    expect(plan[3]?.changes).toEqual({ status: { from: 'active', to: 'suspended' } });
    expect((await items(run.id, 'suspend')).map((i) => i.key)).toEqual([c]);

    // Planning wrote nothing.
    expect(await userByKey(origin, d)).toBeUndefined();
    expect((await userByKey(origin, a))?.title).toBe('Analyst');

    const done = await applyRun(run.id);
    expect(done).toMatchObject({ status: 'applied', applied: { create: 1, update: 1, reactivate: 0, suspend: 1, failed: 0 } });
    expect((await userByKey(origin, a))?.title).toBe('Lead');
    expect((await userByKey(origin, c))?.status).toBe('suspended');
    const created = await userByKey(origin, d);
    expect(created?.title).toBe('New');
    const events = (await call('GET', `/v1/users/${created?.id}/history`, undefined, 200)).json().items as { type: string; context?: { syncRunId?: string } }[];
    expect(events.map((e) => [e.type, e.context?.syncRunId])).toEqual([['user.created', run.id]]);
    expect((await items(run.id)).filter((i) => i.action !== 'unchanged').every((i) => i.outcome === 'applied')).toBe(true);

    // The same snapshot again changes nothing: everything unchanged, c stays as it is (already suspended).
    const again = await startRun({ origin, missing: 'suspend', users: [person(a, { title: 'Lead' }), person(b, { title: 'Clerk' }), person(d, { title: 'New' })] });
    expect(again.counts).toEqual({ create: 0, update: 0, reactivate: 0, suspend: 0, unchanged: 4, errors: 0 });
  });

  it('a user the source drops and lists again is reactivated; one suspended by an admin is not', async () => {
    const origin = unique('hr');
    const [a, b] = [unique('a'), unique('b')];
    await applyRun((await startRun({ origin, users: [person(a), person(b)] })).id);
    await applyRun((await startRun({ origin, missing: 'suspend', users: [person(b)] })).id);
    expect((await userByKey(origin, a))?.status).toBe('suspended');
    const bUser = await userByKey(origin, b);
    await call('POST', `/v1/users/${bUser?.id}/suspend`, undefined, 200);

    const back = await startRun({ origin, missing: 'suspend', users: [person(a), person(b)] });
    const plan = await items(back.id);
    expect(plan.map((i) => [i.key, i.action])).toEqual([[a, 'reactivate'], [b, 'unchanged']]);
    expect(plan[0]?.changes.status).toEqual({ from: 'suspended', to: 'active' });
    expect(plan[1]?.warnings.map((w) => w.code)).toEqual(['suspended_elsewhere']);
    expect(await applyRun(back.id)).toMatchObject({ applied: { reactivate: 1 } });
    expect((await userByKey(origin, a))?.status).toBe('active');
    expect((await userByKey(origin, b))?.status).toBe('suspended');
  });

  it('holds an empty snapshot, and a plan over maxDeactivations or maxChanges, until forced', async () => {
    const origin = unique('hr');
    const keys = Array.from({ length: 10 }, () => unique('p'));
    await applyRun((await startRun({ origin, users: keys.map((k) => person(k)) })).id);

    const empty = await startRun({ origin, missing: 'suspend', users: [] });
    expect(empty.status).toBe('held');
    expect(empty.heldReasons[0]).toMatch(/empty/);
    const refused = await call('POST', `/v1/sync-runs/${empty.id}/apply`, undefined, 409);
    expect(refused.json().code).toBe('sync_run.held');

    const tooMany = await startRun({ origin, missing: 'suspend', maxDeactivations: '20%', users: keys.slice(0, 7).map((k) => person(k)) });
    expect(tooMany).toMatchObject({ status: 'held', counts: { suspend: 3 } });
    expect(tooMany.heldReasons[0]).toMatch(/suspends 3 users; maxDeactivations allows 2/);
    const withinCount = await startRun({ origin, missing: 'suspend', maxDeactivations: 3, users: keys.slice(0, 7).map((k) => person(k)) });
    expect(withinCount.status).toBe('planned');
    await call('DELETE', `/v1/sync-runs/${withinCount.id}`, undefined, 204);
    await call('GET', `/v1/sync-runs/${withinCount.id}`, undefined, 404);

    const changes = await startRun({ origin, maxChanges: 1, users: keys.map((k) => person(k, { title: 'T' })) });
    expect(changes.status).toBe('held');
    expect(changes.heldReasons[0]).toMatch(/makes 10 changes; maxChanges allows 1/);

    const forced = await applyRun(tooMany.id, '?force=true');
    expect(forced).toMatchObject({ status: 'applied', applied: { suspend: 3 } });
  });

  it('never suspends a user with preventDeprovision', async () => {
    const origin = unique('hr');
    const [a, b] = [unique('a'), unique('b')];
    await applyRun((await startRun({ origin, users: [person(a, { preventDeprovision: true }), person(b)] })).id);
    const run = await startRun({ origin, missing: 'suspend', users: [person(b)] });
    const plan = await items(run.id);
    expect(plan.find((i) => i.key === a)).toMatchObject({ action: 'unchanged', warnings: [{ code: 'prevent_deprovision' }] });
    await applyRun(run.id);
    expect((await userByKey(origin, a))?.status).toBe('active');
  });

  it('an item whose user changed between plan and apply fails with a clear reason; the others apply', async () => {
    const origin = unique('hr');
    const [a, b, c] = [unique('a'), unique('b'), unique('c')];
    await applyRun((await startRun({ origin, users: [person(a), person(b), person(c)] })).id);
    const run = await startRun({ origin, missing: 'suspend', users: [person(a, { title: 'Planned' }), person(b, { title: 'Planned' })] });
    expect(run.counts).toMatchObject({ update: 2, suspend: 1 });
    // Meanwhile someone edits a and c.
    const aUser = await userByKey(origin, a);
    const edited = await t.request({ method: 'PATCH', url: `/v1/users/${aUser?.id}`, token, payload: { title: 'Edited by hand' } });
    expect(edited.statusCode).toBe(200);
    const cUser = await userByKey(origin, c);
    const patched = await t.request({ method: 'PATCH', url: `/v1/users/${cUser?.id}`, token, payload: { title: 'Also edited' } });
    expect(patched.statusCode).toBe(200);

    const done = await applyRun(run.id);
    expect(done.applied).toEqual({ create: 0, update: 1, reactivate: 0, suspend: 0, failed: 2 });
    expect((await userByKey(origin, a))?.title).toBe('Edited by hand');
    expect((await userByKey(origin, b))?.title).toBe('Planned');
    expect((await userByKey(origin, c))?.status).toBe('active');
    const failed = (await items(run.id)).filter((i) => i.outcome === 'failed');
    expect(failed.map((i) => [i.key, i.outcomeError?.code])).toEqual([[a, 'sync_run.drift'], [c, 'sync_run.drift']]);
  });

  it('staged runs receive rows in several calls, plan once, and refuse rows after planning', async () => {
    const origin = unique('hr');
    const run = await startRun({ origin, staged: true });
    expect(run).toMatchObject({ status: 'receiving', received: 0, counts: null });
    const keys = Array.from({ length: 30 }, () => unique('s'));
    for (let i = 0; i < 30; i += 10) {
      const res = await call('POST', `/v1/sync-runs/${run.id}/users`, { users: keys.slice(i, i + 10).map((k) => person(k)) }, 200);
      expect(res.json().received).toBe(i + 10);
    }
    const planned = (await call('POST', `/v1/sync-runs/${run.id}/plan`, undefined, 200)).json() as Run;
    expect(planned).toMatchObject({ status: 'planned', received: 30, counts: { create: 30 } });
    const late = await call('POST', `/v1/sync-runs/${run.id}/users`, { users: [person(unique('late'))] }, 409);
    expect(late.json().code).toBe('sync_run.wrong_status');
    const auto = (await call('POST', `/v1/sync-runs/${run.id}/plan?autoApply=true`, undefined, 202)).json() as Run;
    expect(auto.status).toBe('applying');
    await runJobs();
    expect((await call('GET', `/v1/sync-runs/${run.id}`, undefined, 200)).json()).toMatchObject({ status: 'applied', applied: { create: 30 } });
    expect(await userByKey(origin, keys[29] as string)).toBeDefined();
  });

  it('reports bad rows and references as error items and warns about duplicate emails and users owned elsewhere', async () => {
    const origin = unique('hr');
    const taken = unique('taken');
    await t.request({ method: 'POST', url: '/v1/users', token, payload: { userName: `${taken}@example.com` } });
    const group = await createGroup(t);
    const run = await startRun({
      origin,
      users: [
        person(unique('g'), { groups: [group.name, 'no such group'] }),
        { key: taken, userName: `${taken}@example.com` },
        person(unique('m'), { manager: 'nobody-at-all' }),
        person(unique('e1'), { email: 'same@example.com' }),
        person(unique('e2'), { email: 'SAME@example.com' }),
      ],
    });
    expect(run.counts).toMatchObject({ errors: 3, create: 2 });
    const plan = await items(run.id);
    expect(plan.map((i) => i.error?.code ?? null)).toEqual(['bulk.reference_not_found', 'user.username_taken', 'user.manager_not_found', null, null]);
    expect(plan[1]?.warnings.map((w) => w.code)).toEqual(['owned_elsewhere']);
    expect(plan[3]?.warnings.map((w) => w.code)).toEqual(['duplicate_email']);
  });

  it('is tenant-scoped, needs users:write to change and users:read to look, and refuses bad input with a 400', async () => {
    const run = await startRun({ origin: unique('hr'), users: [person(unique('x'))] });
    const other = await t.request({ method: 'POST', url: '/v1/tenants', token, payload: { id: unique('t'), name: 'Other' } });
    expect(other.statusCode, other.body).toBe(201);
    const list = (await call('GET', '/v1/sync-runs?$top=1', undefined, 200)).json() as { items: Run[]; nextCursor: string | null };
    expect(list.items[0]?.id).toBe(run.id);
    for (const body of [
      {},
      { origin: 'hr', missing: 'delete' },
      { origin: 'hr', maxDeactivations: '150%' },
      { origin: 'hr', maxDeactivations: -1 },
      { origin: 'hr', users: [{ key: 'k', nope: 1 }] },
    ]) {
      const res = await call('POST', '/v1/sync-runs', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    await call('GET', '/v1/sync-runs/0190a0a0-0000-7000-8000-000000000000', undefined, 404);
    await call('GET', `/v1/sync-runs/${run.id}/items?cursor=garbage`, undefined, 400);
  });
});
