import { describe, expect, it } from 'vitest';
import { useTestApp, type TestApp } from '../helpers/test-app.js';
import { createGroup, createOtherTenant, tokenWithScopes } from '../helpers/directory-fixtures.js';

/*
 * Fresh-eyes attacks on directory sync runs and asynchronous bulk upserts, through HTTP, on
 * whichever database the project runs: every endpoint in every status, plans that must be exactly
 * right, drift between plan and apply, tenancy, job results and NDJSON edge cases, and bad input
 * (always a clear 4xx, nothing changed). Failures found were kept, marked, and are fixed.
 */

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
  warnings: { code: string }[];
  error: { code: string } | null;
  outcome: string | null;
  outcomeError: { code: string } | null;
}
interface EventItem {
  position: number;
  type: string;
  resource: { id: string };
  context: { syncRunId?: string; jobId?: string };
}

type Method = 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT';

async function call(method: Method, url: string, payload?: unknown, expected?: number, bearer = token) {
  const res = await t.request({ method, url, token: bearer, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
  if (expected !== undefined) expect(res.statusCode, `${method} ${url}: ${res.body.slice(0, 500)}`).toBe(expected);
  return res;
}

async function startRun(body: Record<string, unknown>, expected = 201): Promise<Run> {
  return (await call('POST', '/v1/sync-runs', body, expected)).json() as Run;
}

async function getRun(id: string): Promise<Run> {
  return (await call('GET', `/v1/sync-runs/${id}`, undefined, 200)).json() as Run;
}

async function items(runId: string, action?: string): Promise<Item[]> {
  const all: Item[] = [];
  let url = `/v1/sync-runs/${runId}/items?$top=1000${action ? `&action=${action}` : ''}`;
  for (;;) {
    const page = (await call('GET', url, undefined, 200)).json() as { items: Item[]; nextCursor: string | null };
    all.push(...page.items);
    if (!page.nextCursor) return all;
    url = `/v1/sync-runs/${runId}/items?cursor=${page.nextCursor}`;
  }
}

async function runJobs(): Promise<void> {
  const runner = t.runtime.jobRunner({ concurrency: 1 });
  while ((await runner.runDue()) > 0);
}

async function applyRun(runId: string, query = ''): Promise<Run> {
  await call('POST', `/v1/sync-runs/${runId}/apply${query}`, undefined, 202);
  await runJobs();
  return getRun(runId);
}

async function userByKey(origin: string, key: string) {
  const res = await call('GET', `/v1/users/by-external-id/${encodeURIComponent(origin)}/${encodeURIComponent(key)}`);
  return res.statusCode === 200 ? (res.json() as { id: string; status: string; title: string | null; version: number; managerId: string | null; userName: string }) : undefined;
}

async function lastEventPosition(): Promise<number> {
  const page = (await call('GET', '/v1/events?$top=1', undefined, 200)).json() as { items: EventItem[] };
  return page.items[0]?.position ?? 0;
}

async function eventsAfter(position: number): Promise<EventItem[]> {
  const all: EventItem[] = [];
  let url = `/v1/events?after=${position}&$top=1000`;
  for (;;) {
    const page = (await call('GET', url, undefined, 200)).json() as { items: EventItem[]; nextCursor: string | null };
    all.push(...page.items);
    if (!page.nextCursor || page.items.length === 0) return all;
    url = `/v1/events?cursor=${page.nextCursor}`;
  }
}

const person = (key: string, extra: Record<string, unknown> = {}) => ({ key, userName: `${key}@example.com`, givenName: key, ...extra });

/** Seeds users of an origin through a sync run that is applied; returns their keys. */
async function seed(origin: string, count: number, extra: (i: number) => Record<string, unknown> = () => ({})): Promise<string[]> {
  const keys = Array.from({ length: count }, () => unique('u'));
  const res = await call('POST', '/v1/users/bulk', { origin, users: keys.map((k, i) => person(k, extra(i))) }, 200);
  expect(res.json().errors).toBe(0);
  return keys;
}

const strip = (list: Item[]) => list.map(({ seq: s, key, userId, action, changes, warnings, error }) => ({ seq: s, key, userId, action, changes, warnings: warnings.map((w) => w.code), error: error?.code ?? null }));

describe('sync runs: every endpoint in every status', () => {
  it('receiving, planned, applying, applied and discarded runs each accept exactly what the contract says', async () => {
    const origin = unique('hr');
    const run = await startRun({ origin, staged: true });
    // receiving: no apply, no items yet.
    expect((await call('POST', `/v1/sync-runs/${run.id}/apply`, undefined, 409)).json().code).toBe('sync_run.wrong_status');
    expect((await call('GET', `/v1/sync-runs/${run.id}/items`, undefined, 200)).json().items).toEqual([]);
    await call('POST', `/v1/sync-runs/${run.id}/users`, { users: [person(unique('a')), person(unique('b'))] }, 200);

    const planned = (await call('POST', `/v1/sync-runs/${run.id}/plan`, undefined, 200)).json() as Run;
    expect(planned).toMatchObject({ status: 'planned', counts: { create: 2 } });
    expect((await call('POST', `/v1/sync-runs/${run.id}/users`, { users: [person(unique('c'))] }, 409)).json().code).toBe('sync_run.wrong_status');

    const applying = (await call('POST', `/v1/sync-runs/${run.id}/apply`, undefined, 202)).json() as Run;
    expect(applying.status).toBe('applying');
    // applying: every change is refused with a 409 and leaves the run as it is.
    for (const [method, url, body] of [
      ['POST', `/v1/sync-runs/${run.id}/apply`, undefined],
      ['POST', `/v1/sync-runs/${run.id}/apply?force=true`, undefined],
      ['POST', `/v1/sync-runs/${run.id}/plan`, undefined],
      ['POST', `/v1/sync-runs/${run.id}/users`, { users: [person(unique('d'))] }],
      ['DELETE', `/v1/sync-runs/${run.id}`, undefined],
    ] as const) {
      const res = await call(method, url, body, 409);
      expect(res.json().code, `${method} ${url}`).toBe('sync_run.wrong_status');
    }
    expect(await getRun(run.id)).toMatchObject({ status: 'applying', jobId: applying.jobId, received: 2 });
    await runJobs();
    expect(await getRun(run.id)).toMatchObject({ status: 'applied', applied: { create: 2, failed: 0 } });

    // applied: final; apply and plan again are 409, discarding is allowed.
    expect((await call('POST', `/v1/sync-runs/${run.id}/apply`, undefined, 409)).json().code).toBe('sync_run.wrong_status');
    expect((await call('POST', `/v1/sync-runs/${run.id}/plan`, undefined, 409)).json().code).toBe('sync_run.wrong_status');
    await call('DELETE', `/v1/sync-runs/${run.id}`, undefined, 204);
    // discarded: gone everywhere.
    for (const [method, url, body] of [
      ['GET', `/v1/sync-runs/${run.id}`, undefined],
      ['GET', `/v1/sync-runs/${run.id}/items`, undefined],
      ['POST', `/v1/sync-runs/${run.id}/apply?force=true`, undefined],
      ['POST', `/v1/sync-runs/${run.id}/plan`, undefined],
      ['POST', `/v1/sync-runs/${run.id}/users`, { users: [person(unique('e'))] }],
      ['DELETE', `/v1/sync-runs/${run.id}`, undefined],
    ] as const) {
      expect((await call(method, url, body, 404)).json().code, `${method} ${url}`).toBe('sync_run.not_found');
    }
  });

  // Was a bug (fixed): a discarded run is 404 on GET /v1/sync-runs/{id} and on every other endpoint, yet GET /v1/sync-runs still lists it (status discarded).
  it('a discarded run is not listed any more', async () => {
    const origin = unique('hr');
    const run = await startRun({ origin, users: [person(unique('a'))] });
    await call('DELETE', `/v1/sync-runs/${run.id}`, undefined, 204);
    await call('GET', `/v1/sync-runs/${run.id}`, undefined, 404);
    const listed = (await call('GET', `/v1/sync-runs?origin=${origin}`, undefined, 200)).json() as { items: Run[] };
    expect(listed.items.map((r) => r.id)).toEqual([]);
  });

  it('a held run planned again after the directory changed is planned against the directory as it is now', async () => {
    const origin = unique('hr');
    const keys = await seed(origin, 4);
    const held = await startRun({ origin, missing: 'suspend', maxDeactivations: 1, users: keys.slice(0, 2).map((k) => person(k)) });
    expect(held).toMatchObject({ status: 'held', counts: { suspend: 2 } });
    // Meanwhile an admin suspends one of the two missing users: the plan is now within the limit.
    const gone = await userByKey(origin, keys[3] as string);
    await call('POST', `/v1/users/${gone?.id}/suspend`, undefined, 200);
    const again = (await call('POST', `/v1/sync-runs/${held.id}/plan`, undefined, 200)).json() as Run;
    expect(again).toMatchObject({ status: 'planned', heldReasons: [], counts: { suspend: 1, unchanged: 3 } });
    expect((await items(held.id, 'suspend')).map((i) => i.key)).toEqual([keys[2]]);
    // A discarded held run cannot be forced.
    await call('DELETE', `/v1/sync-runs/${held.id}`, undefined, 204);
    await call('POST', `/v1/sync-runs/${held.id}/apply?force=true`, undefined, 404);
    expect((await userByKey(origin, keys[2] as string))?.status).toBe('active');
  });

  // Was a bug (fixed): POST …/plan is accepted while the run is `planning`, so two plans at once both insert items with the same (run_id, seq): one answers 500.
  it('two plans of one run at once: each answers 200 or 409, never a 500, and the plan has each item once', async () => {
    const origin = unique('hr');
    const run = await startRun({ origin, staged: true });
    const keys = Array.from({ length: 600 }, () => unique('p'));
    await call('POST', `/v1/sync-runs/${run.id}/users`, { users: keys.map((k) => person(k)) }, 200);
    const answers = await Promise.all([0, 1].map(() => call('POST', `/v1/sync-runs/${run.id}/plan`)));
    expect(answers.map((a) => a.statusCode).sort(), answers.map((a) => a.body.slice(0, 200)).join('\n')).toSatisfy((codes: number[]) => codes.every((c) => c === 200 || c === 409) && codes.includes(200));
    const after = await getRun(run.id);
    expect(['planned', 'held']).toContain(after.status);
    const plan = await items(run.id);
    expect(plan.length).toBe(600);
    expect(new Set(plan.map((i) => i.seq)).size).toBe(600);
    expect(after.counts).toMatchObject({ create: 600 });
  });

  it('two applies at once: one 202, one 409, exactly one job, every user written once', async () => {
    const origin = unique('hr');
    const keys = Array.from({ length: 40 }, () => unique('c'));
    const run = await startRun({ origin, users: keys.map((k) => person(k)) });
    const answers = await Promise.all([0, 1, 2].map(() => call('POST', `/v1/sync-runs/${run.id}/apply`)));
    const codes = answers.map((a) => a.statusCode).sort();
    expect(codes, answers.map((a) => a.body.slice(0, 200)).join('\n')).toEqual([202, 409, 409]);
    const jobIds = new Set(answers.filter((a) => a.statusCode === 202).map((a) => a.json().jobId as string));
    expect(jobIds.size).toBe(1);
    const jobs = (await call('GET', '/v1/jobs?type=sync-run.apply&$top=100', undefined, 200)).json() as { items: { id: string; payload?: unknown }[] };
    const ofRun = jobs.items.filter((j) => jobIds.has(j.id) || JSON.stringify(j).includes(run.id));
    expect(ofRun.length).toBe(1);
    await runJobs();
    expect(await getRun(run.id)).toMatchObject({ status: 'applied', applied: { create: 40, failed: 0 } });
    const listed = (await call('GET', `/v1/users?$filter=${encodeURIComponent(`userName eq '${keys[0]}@example.com'`)}`, undefined, 200)).json() as { items: unknown[] };
    expect(listed.items.length).toBe(1);
  });
});

describe('sync runs: plans that must be right', () => {
  it('a repeated key is an error item, never a second user, and never a suspension', async () => {
    const origin = unique('hr');
    const [a, b] = await seed(origin, 2);
    const c = unique('c');
    const run = await startRun({ origin, missing: 'suspend', users: [person(a as string, { title: 'One' }), person(b as string), person(c), person((a as string).toUpperCase(), { title: 'Two' }), person(c, { title: 'Again' })] });
    const plan = await items(run.id);
    expect(plan.map((i) => [i.action, i.error?.code ?? null])).toEqual([
      ['update', null], ['unchanged', null], ['create', null], ['error', 'bulk.duplicate_key'], ['error', 'bulk.duplicate_key'],
    ]);
    expect(run.counts).toEqual({ create: 1, update: 1, reactivate: 0, suspend: 0, unchanged: 1, errors: 2 });
    const done = await applyRun(run.id);
    expect(done.applied).toEqual({ create: 1, update: 1, reactivate: 0, suspend: 0, failed: 0 });
    expect((await userByKey(origin, a as string))?.title).toBe('One');
    expect((await userByKey(origin, c))?.title).toBeNull();
  });

  // Was a bug (fixed): the plan runs the snapshot as a dry run in chunks of 250, each rolled back before the next, so a userName taken by a row of an earlier chunk is planned as a second create (the apply then fails it).
  it('userName collisions: with a stored user, and between rows of the snapshot (also 300 rows apart) — the plan says what the apply does', async () => {
    const origin = unique('hr');
    const stored = unique('stored');
    await call('POST', '/v1/users', { userName: `${stored}@example.com` }, 201);
    const shared = `${unique('shared')}@example.com`;
    const far = `${unique('far')}@example.com`;
    const filler = Array.from({ length: 300 }, () => person(unique('f')));
    const rows = [
      { key: unique('k'), userName: `${stored}@example.com` },
      { key: unique('k'), userName: shared },
      { key: unique('k'), userName: shared.toUpperCase() },
      { key: unique('k'), userName: far },
      ...filler,
      { key: unique('k'), userName: far },
    ];
    const run = await startRun({ origin, users: rows });
    const plan = await items(run.id);
    expect(plan[0]).toMatchObject({ action: 'error', error: { code: 'user.username_taken' }, warnings: [{ code: 'owned_elsewhere' }] });
    expect(plan.slice(1, 3).map((i) => i.action).sort()).toEqual(['create', 'error']);
    expect(plan[3]?.action).toBe('create');
    const last = plan[rows.length - 1];
    expect(last?.action, JSON.stringify(last)).toBe('error');
    const done = await applyRun(run.id);
    expect(done.applied?.failed).toBe(0);
  });

  it('managers named by key in any order across more than 250 rows are planned and applied without errors', async () => {
    const origin = unique('hr');
    const keys = Array.from({ length: 320 }, () => unique('m'));
    // Each row's manager is the row after it (the chain runs backwards through the list), and the boss is last.
    const rows = keys.map((k, i) => person(k, i + 1 < keys.length ? { manager: keys[i + 1] } : {}));
    // ...and the list is then shuffled deterministically so reports and managers are far apart.
    const shuffled = rows.map((r, i) => ({ r, o: (i * 7919) % rows.length })).sort((x, y) => x.o - y.o).map((x) => x.r);
    const run = await startRun({ origin, users: shuffled });
    expect(run.counts, JSON.stringify((await items(run.id, 'error')).slice(0, 3))).toEqual({ create: 320, update: 0, reactivate: 0, suspend: 0, unchanged: 0, errors: 0 });
    const done = await applyRun(run.id);
    expect(done.applied).toEqual({ create: 320, update: 0, reactivate: 0, suspend: 0, failed: 0 });
    const report = await userByKey(origin, keys[0] as string);
    const manager = await userByKey(origin, keys[1] as string);
    expect(report?.managerId).toBe(manager?.id);
    // The same snapshot in another order plans zero changes.
    const again = await startRun({ origin, users: [...rows].reverse() });
    expect(again.counts).toEqual({ create: 0, update: 0, reactivate: 0, suspend: 0, unchanged: 320, errors: 0 });
    const replan = (await call('POST', `/v1/sync-runs/${again.id}/plan`, undefined, 200)).json() as Run;
    expect(replan.counts).toEqual(again.counts);
  }, 60_000);

  it('a row that changes status explicitly plans and applies that transition, with the lifecycle event', async () => {
    const origin = unique('hr');
    const [a, b] = await seed(origin, 2);
    const position = await lastEventPosition();
    const run = await startRun({ origin, users: [person(a as string, { status: 'suspended' }), person(b as string, { status: 'staged' })] });
    const plan = await items(run.id);
    expect(plan[0]).toMatchObject({ action: 'update', changes: { status: { from: 'active', to: 'suspended' } } });
    expect(plan[1]).toMatchObject({ action: 'error', error: { code: 'user.transition_not_allowed' } });
    await applyRun(run.id);
    expect((await userByKey(origin, a as string))?.status).toBe('suspended');
    const events = await eventsAfter(position);
    expect(events.map((e) => e.type)).toEqual(['user.suspended']);
    expect(events[0]?.context.syncRunId).toBe(run.id);
  });

  it('missing: suspend touches only users of this origin, in this tenant, that can be suspended', async () => {
    const origin = unique('hr');
    const otherOrigin = unique('ad');
    const [kept, dropped, both, alreadySuspended, staged, protectedKey] = [unique('kept'), unique('drop'), unique('both'), unique('susp'), unique('staged'), unique('prot')];
    await call('POST', '/v1/users/bulk', {
      origin,
      users: [person(kept), person(dropped), person(both), person(alreadySuspended, { status: 'suspended' }), person(staged, { status: 'staged' }), person(protectedKey, { preventDeprovision: true })],
    }, 200);
    // `both` also has a key of another origin; another origin has a user with the very key `dropped`.
    const bothUser = await userByKey(origin, both);
    await call('PATCH', `/v1/users/${bothUser?.id}`, { externalIds: [{ origin, key: both }, { origin: otherOrigin, key: 'x-1' }] }, 200);
    await call('POST', '/v1/users/bulk', { origin: otherOrigin, users: [{ key: dropped, userName: `${unique('o')}@example.com` }, { key: unique('o2'), userName: `${unique('o')}@example.com` }] }, 200);
    // A second tenant with a user of the same origin and key.
    const otherTenant = await createOtherTenant(t, unique('tenant'));
    await call('POST', '/v1/users/bulk', { origin, users: [person(unique('elsewhere')), { key: kept, userName: `${unique('tk')}@example.com` }] }, 200, otherTenant);

    const run = await startRun({ origin, missing: 'suspend', maxDeactivations: '100%', users: [person(kept)] });
    const plan = await items(run.id);
    const byKey = new Map(plan.map((i) => [i.key.toLowerCase(), i]));
    expect(plan.length).toBe(6);
    expect(byKey.get(kept.toLowerCase())?.action).toBe('unchanged');
    expect(byKey.get(dropped.toLowerCase())).toMatchObject({ action: 'suspend', changes: { status: { from: 'active', to: 'suspended' } } });
    expect(byKey.get(both.toLowerCase())?.action).toBe('suspend');
    expect(byKey.get(alreadySuspended.toLowerCase())).toMatchObject({ action: 'unchanged', warnings: [] });
    expect(byKey.get(staged.toLowerCase())).toMatchObject({ action: 'suspend', changes: { status: { from: 'staged', to: 'suspended' } } });
    expect(byKey.get(protectedKey.toLowerCase())).toMatchObject({ action: 'unchanged', warnings: [{ code: 'prevent_deprovision' }] });
    expect(run.counts).toMatchObject({ suspend: 3, unchanged: 3, create: 0 });

    const done = await applyRun(run.id);
    expect(done.applied).toMatchObject({ suspend: 3, failed: 0 });
    // The other origin's user with the same key, and the other tenant's users, are untouched.
    expect((await userByKey(otherOrigin, dropped))?.status).toBe('active');
    const theirs = (await call('GET', `/v1/users/by-external-id/${origin}/${kept}`, undefined, 200, otherTenant)).json() as { status: string; version: number };
    expect(theirs).toMatchObject({ status: 'active', version: 1 });
    const theirList = (await call('GET', `/v1/sync-runs`, undefined, 200, otherTenant)).json() as { items: Run[] };
    expect(theirList.items.map((r) => r.id)).not.toContain(run.id);
  });

  it('maxDeactivations as 0, "0%", "100%" and "33.33%" hold exactly when the suspensions exceed them', async () => {
    const origin = unique('hr');
    const keys = await seed(origin, 6);
    const plan = async (maxDeactivations: unknown, listed: number) => startRun({ origin, missing: 'suspend', maxDeactivations, users: keys.slice(0, listed).map((k) => person(k)) });
    expect(await plan(0, 6)).toMatchObject({ status: 'planned', counts: { suspend: 0 } });
    expect(await plan(0, 5)).toMatchObject({ status: 'held', counts: { suspend: 1 } });
    expect(await plan('0%', 5)).toMatchObject({ status: 'held' });
    expect(await plan('100%', 0)).toMatchObject({ status: 'held', heldReasons: [expect.stringMatching(/empty/)] });
    const all = await plan('100%', 1);
    expect(all).toMatchObject({ status: 'planned', counts: { suspend: 5 } });
    // 33.33% of 6 active users is 1.9998: one suspension is within it, two are not.
    expect(await plan('33.33%', 5)).toMatchObject({ status: 'planned', counts: { suspend: 1 } });
    const two = await plan('33.33%', 4);
    expect(two).toMatchObject({ status: 'held', counts: { suspend: 2 } });
    expect(two.heldReasons[0]).toMatch(/33\.33%/);
    // Impossible percentages and counts are refused.
    for (const bad of ['101%', '-1%', '5', '%', '5 %', '1e2%', 1.5, -1, '0x10%', null]) {
      const res = await call('POST', '/v1/sync-runs', { origin, missing: 'suspend', maxDeactivations: bad, users: [person(keys[0] as string)] });
      expect(res.statusCode, `maxDeactivations ${JSON.stringify(bad)}: ${res.body.slice(0, 200)}`).toBe(400);
    }
  });

  // Was a bug (fixed): the schema pattern ^(100|[0-9]{1,2})(\.[0-9]{1,2})?%$ lets "100.5%" … "100.99%" (more than every user) through; they are stored and shown as options.
  it('maxDeactivations above 100% is a 400', async () => {
    const res = await call('POST', '/v1/sync-runs', { origin: unique('hr'), missing: 'suspend', maxDeactivations: '100.5%', users: [person(unique('a'))] });
    expect(res.statusCode, res.body.slice(0, 200)).toBe(400);
  });

  it('a snapshot that only reorders rows plans zero changes, and planning again gives the same items', async () => {
    const origin = unique('hr');
    const group = await createGroup(t);
    const keys = await seed(origin, 12, (i) => ({ title: `T${i}`, groups: i % 2 === 0 ? [group.name] : [] }));
    const rows = keys.map((k, i) => person(k, { title: `T${i}`, groups: i % 2 === 0 ? [group.name] : [] })).reverse();
    const run = await startRun({ origin, missing: 'suspend', users: rows });
    expect(run.counts).toEqual({ create: 0, update: 0, reactivate: 0, suspend: 0, unchanged: 12, errors: 0 });
    const changed = await startRun({ origin, missing: 'suspend', maxDeactivations: 5, users: rows.slice(2).map((r, i) => (i === 0 ? { ...r, title: 'New' } : r)) });
    const first = strip(await items(changed.id));
    const replanned = (await call('POST', `/v1/sync-runs/${changed.id}/plan`, undefined, 200)).json() as Run;
    expect(replanned.counts).toEqual(changed.counts);
    expect(strip(await items(changed.id))).toEqual(first);
    expect(changed.counts).toMatchObject({ update: 1, suspend: 2, unchanged: 9 });
  });
});

describe('sync runs: apply against a directory that moved', () => {
  it('a deleted user, a key given by hand and a deleted group fail their items; the rest apply; every event carries the run and job', async () => {
    const origin = unique('hr');
    const group = await createGroup(t);
    const [upd, del, susp] = await seed(origin, 3);
    const [handKey, groupKey, fine] = [unique('hand'), unique('grp'), unique('fine')];
    const run = await startRun({
      origin, missing: 'suspend', maxDeactivations: 5,
      users: [person(upd as string, { title: 'Planned' }), person(del as string, { title: 'Planned' }), person(handKey), person(groupKey, { groups: [group.name] }), person(fine)],
    });
    expect(run.counts).toMatchObject({ create: 3, update: 2, suspend: 1, errors: 0 });

    // Between plan and apply: `del` is deleted, a user is created by hand with `handKey`, the group goes, `susp` is deleted.
    await call('DELETE', `/v1/users/${(await userByKey(origin, del as string))?.id}`, undefined, 204);
    const byHand = (await call('POST', '/v1/users', { userName: `${unique('byhand')}@example.com`, title: 'Mine', externalIds: [{ origin, key: handKey }] }, 201)).json() as { id: string; version: number };
    await call('DELETE', `/v1/groups/${group.id}`, undefined, 204);
    await call('DELETE', `/v1/users/${(await userByKey(origin, susp as string))?.id}`, undefined, 204);
    const position = await lastEventPosition();

    const done = await applyRun(run.id);
    expect(done.status).toBe('applied');
    const outcome = new Map((await items(run.id)).map((i) => [i.key, i]));
    expect(outcome.get(upd as string)?.outcome).toBe('applied');
    expect(outcome.get(fine)?.outcome).toBe('applied');
    expect(outcome.get(del as string)).toMatchObject({ outcome: 'failed', outcomeError: { code: 'sync_run.drift' } });
    expect(outcome.get(handKey)).toMatchObject({ outcome: 'failed', outcomeError: { code: 'sync_run.drift' } });
    expect(outcome.get(groupKey)?.outcome).toBe('failed');
    expect(outcome.get(susp as string)).toMatchObject({ outcome: 'failed', outcomeError: { code: 'sync_run.drift' } });
    expect(done.applied).toEqual({ create: 1, update: 1, reactivate: 0, suspend: 0, failed: 4 });

    // The deleted user is not brought back, the hand-made user is not overwritten, no user without its group.
    expect(await userByKey(origin, del as string)).toBeUndefined();
    expect((await call('GET', `/v1/users/${byHand.id}`, undefined, 200)).json()).toMatchObject({ title: 'Mine', version: byHand.version });
    expect(await userByKey(origin, groupKey)).toBeUndefined();

    const events = await eventsAfter(position);
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const e of events) expect(e.context, e.type).toMatchObject({ syncRunId: run.id, jobId: done.jobId });
  });
});

describe('sync runs: items paging', () => {
  it('pages by action with $top bounds; bad cursors and cursors of another run or query are a 400', async () => {
    const origin = unique('hr');
    const run = await startRun({ origin, users: Array.from({ length: 7 }, () => person(unique('i'))) });
    const other = await startRun({ origin: unique('hr'), users: Array.from({ length: 7 }, () => person(unique('j'))) });
    const first = (await call('GET', `/v1/sync-runs/${run.id}/items?action=create&$top=3`, undefined, 200)).json() as { items: Item[]; nextCursor: string };
    expect(first.items.map((i) => i.seq)).toEqual([1, 2, 3]);
    const second = (await call('GET', `/v1/sync-runs/${run.id}/items?cursor=${first.nextCursor}`, undefined, 200)).json() as { items: Item[]; nextCursor: string | null };
    expect(second.items.map((i) => i.seq)).toEqual([4, 5, 6]);
    expect((await call('GET', `/v1/sync-runs/${run.id}/items?action=update`, undefined, 200)).json().items).toEqual([]);
    for (const query of ['$top=0', '$top=1001', '$top=-1', '$top=abc', '$top=1.5', 'action=delete', 'action=', 'cursor=', 'cursor=garbage', `cursor=${'A'.repeat(600)}`, 'nope=1', 'cursor=%FF', 'cursor=%00']) {
      const res = await call('GET', `/v1/sync-runs/${run.id}/items?${query}`);
      expect(res.statusCode, `${query}: ${res.body.slice(0, 200)}`).toBe(400);
    }
    // A cursor of another run, or sent with another action or $top, continues nothing.
    const otherCursor = (await call('GET', `/v1/sync-runs/${other.id}/items?$top=2`, undefined, 200)).json().nextCursor as string;
    for (const url of [`/v1/sync-runs/${run.id}/items?cursor=${otherCursor}`, `/v1/sync-runs/${run.id}/items?cursor=${first.nextCursor}&action=error`, `/v1/sync-runs/${run.id}/items?cursor=${first.nextCursor}&$top=5`]) {
      const res = await call('GET', url);
      expect(res.statusCode, `${url}: ${res.body.slice(0, 200)}`).toBe(400);
      expect(res.json().code).toBe('request.invalid_cursor');
    }
    const big = (await call('GET', `/v1/sync-runs/${run.id}/items?$top=1000`, undefined, 200)).json() as { items: Item[]; nextCursor: string | null };
    expect(big).toMatchObject({ nextCursor: null });
    expect(big.items.length).toBe(7);
  });
});

describe('sync runs: items cursor', () => {
  // Was a bug (fixed): GET /v1/sync-runs/{id}/items filters by req.query.action, not by the action the cursor carries, so `?cursor=` alone (as the README says cursors work) drops the filter and pages items of every action.
  it('an items cursor alone keeps the action filter it was made with', async () => {
    const origin = unique('hr');
    const keys = await seed(origin, 6);
    // Plan: three unchanged rows (seq 1–3), then three suspensions (seq 4–6).
    const run = await startRun({ origin, missing: 'suspend', users: keys.slice(0, 3).map((k) => person(k)) });
    const first = (await call('GET', `/v1/sync-runs/${run.id}/items?action=unchanged&$top=2`, undefined, 200)).json() as { items: Item[]; nextCursor: string };
    expect(first.items.map((i) => [i.seq, i.action])).toEqual([[1, 'unchanged'], [2, 'unchanged']]);
    const withFilter = (await call('GET', `/v1/sync-runs/${run.id}/items?action=unchanged&cursor=${first.nextCursor}`, undefined, 200)).json() as { items: Item[] };
    expect(withFilter.items.map((i) => i.action)).toEqual(['unchanged']);
    const rest = (await call('GET', `/v1/sync-runs/${run.id}/items?cursor=${first.nextCursor}`, undefined, 200)).json() as { items: Item[]; nextCursor: string | null };
    expect(rest.items.map((i) => [i.seq, i.action])).toEqual([[3, 'unchanged']]);
    expect(rest.nextCursor).toBeNull();
  });
});

describe('sync runs: tenancy and scopes', () => {
  it('another tenant\'s run ids are 404 on every endpoint; reads need users:read, changes users:write', async () => {
    const run = await startRun({ origin: unique('hr'), users: [person(unique('x'))] });
    const other = await createOtherTenant(t, unique('tenant'));
    for (const [method, url, body] of [
      ['GET', `/v1/sync-runs/${run.id}`, undefined],
      ['GET', `/v1/sync-runs/${run.id}/items`, undefined],
      ['POST', `/v1/sync-runs/${run.id}/apply`, undefined],
      ['POST', `/v1/sync-runs/${run.id}/apply?force=true`, undefined],
      ['POST', `/v1/sync-runs/${run.id}/plan?autoApply=true`, undefined],
      ['POST', `/v1/sync-runs/${run.id}/users`, { users: [person(unique('y'))] }],
      ['DELETE', `/v1/sync-runs/${run.id}`, undefined],
    ] as const) {
      const res = await call(method, url, body, 404, other);
      expect(res.json().code, `${method} ${url}`).toBe('sync_run.not_found');
    }
    expect(await getRun(run.id)).toMatchObject({ status: 'planned', received: 1 });

    const reader = await tokenWithScopes(t, ['users:read']);
    const directory = await tokenWithScopes(t, ['directory:read', 'directory:write']);
    await call('GET', `/v1/sync-runs/${run.id}/items`, undefined, 200, reader);
    await call('POST', `/v1/sync-runs/${run.id}/apply`, undefined, 403, reader);
    await call('DELETE', `/v1/sync-runs/${run.id}`, undefined, 403, reader);
    await call('POST', '/v1/sync-runs', { origin: 'hr', users: [] }, 403, reader);
    await call('GET', `/v1/sync-runs/${run.id}`, undefined, 403, directory);
    await call('GET', '/v1/sync-runs', undefined, 403, directory);
    expect(await getRun(run.id)).toMatchObject({ status: 'planned' });
  });
});

describe('sync runs: bad input is a clear 4xx and changes nothing', () => {
  it('malformed JSON, unknown fields, NUL, lone surrogates, impossible values and oversized lists', async () => {
    const origin = unique('hr');
    const staged = await startRun({ origin, staged: true });
    const before = (await call('GET', '/v1/sync-runs?$top=1000', undefined, 200)).json().items.length as number;
    const raw = async (url: string, payload: string, contentType = 'application/json') =>
      t.request({ method: 'POST', url, token, payload, headers: { 'content-type': contentType } });
    const bodies: [string, string][] = [
      ['malformed', '{"origin": "hr", "users": [}'],
      ['truncated', '{"origin": "hr"'],
      ['array', '[]'],
      ['string', '"hr"'],
      ['null', 'null'],
      ['repeated key', '{"origin": "hr", "origin": "ad"}'],
      ['__proto__', '{"origin": "hr", "__proto__": {}}'],
      ['NUL in origin', JSON.stringify({ origin: 'h\u0000r' })],
      ['lone surrogate in key', '{"origin": "hr", "users": [{"key": "a\\ud800", "userName": "a@example.com"}]}'],
      ['NUL in key', JSON.stringify({ origin: 'hr', users: [{ key: 'a\u0000', userName: 'a@example.com' }] })],
      ['empty origin', JSON.stringify({ origin: '' })],
      ['long origin', JSON.stringify({ origin: 'o'.repeat(129) })],
      ['unknown field', JSON.stringify({ origin: 'hr', dryRun: true })],
      ['unknown row field', JSON.stringify({ origin: 'hr', users: [{ key: 'a', password: 'x' }] })],
      ['row without key', JSON.stringify({ origin: 'hr', users: [{ userName: 'a@example.com' }] })],
      ['row key empty', JSON.stringify({ origin: 'hr', users: [{ key: '' }] })],
      ['row key number', JSON.stringify({ origin: 'hr', users: [{ key: 5 }] })],
      ['users not array', JSON.stringify({ origin: 'hr', users: {} })],
      ['staged string', JSON.stringify({ origin: 'hr', staged: 'yes' })],
      ['missing bad', JSON.stringify({ origin: 'hr', missing: 'SUSPEND' })],
      ['maxChanges negative', JSON.stringify({ origin: 'hr', maxChanges: -1 })],
      ['maxChanges fraction', JSON.stringify({ origin: 'hr', maxChanges: 0.5 })],
      ['maxChanges huge', '{"origin": "hr", "maxChanges": 9007199254740993}'],
      ['maxChanges 1e400', '{"origin": "hr", "maxChanges": 1e400}'],
      ['too many rows', JSON.stringify({ origin: 'hr', users: Array.from({ length: 10_001 }, (_, i) => ({ key: `k${i}` })) })],
      ['deep', `{"origin": "hr", "users": [{"key": "a", "attributes": ${'{"a":'.repeat(70)}1${'}'.repeat(70)}}]}`],
    ];
    for (const [name, payload] of bodies) {
      const res = await raw('/v1/sync-runs', payload);
      expect(res.statusCode, `${name}: ${res.body.slice(0, 300)}`).toBe(400);
    }
    const rowBodies: [string, string][] = [
      ['malformed', '{"users": [}'],
      ['no users', '{}'],
      ['origin too', JSON.stringify({ origin: 'hr', users: [] })],
      ['NUL in a field', JSON.stringify({ users: [{ key: 'a', title: 'x\u0000' }] })],
      ['lone surrogate', '{"users": [{"key": "a", "title": "\\udfff"}]}'],
      ['unknown row field', JSON.stringify({ users: [{ key: 'a', nope: 1 }] })],
      ['too many rows', JSON.stringify({ users: Array.from({ length: 10_001 }, (_, i) => ({ key: `k${i}` })) })],
    ];
    for (const [name, payload] of rowBodies) {
      const res = await raw(`/v1/sync-runs/${staged.id}/users`, payload);
      expect(res.statusCode, `rows: ${name}: ${res.body.slice(0, 300)}`).toBe(400);
    }
    // Media types, and a body on routes that take none.
    expect((await raw('/v1/sync-runs', JSON.stringify({ origin: 'hr' }), 'text/plain')).statusCode).toBe(415);
    expect((await raw('/v1/sync-runs', `${JSON.stringify({ key: 'a' })}\n`, 'application/x-ndjson')).statusCode).toBe(415);
    expect((await raw('/v1/sync-runs', JSON.stringify({ origin: 'hr' }), 'application/json; charset=latin1')).statusCode).toBe(415);
    const invalidUtf8 = await t.request({ method: 'POST', url: '/v1/sync-runs', token, payload: Buffer.from([0x7b, 0x22, 0x6f, 0xff, 0x22, 0x3a, 0x31, 0x7d]), headers: { 'content-type': 'application/json' } });
    expect(invalidUtf8.statusCode).toBe(400);
    // Path and query parameters.
    for (const url of [`/v1/sync-runs/not-a-uuid`, `/v1/sync-runs/${staged.id}?x=1`, `/v1/sync-runs/${staged.id}/plan?autoApply=yes`, `/v1/sync-runs/${staged.id}/apply?force=maybe`, '/v1/sync-runs?status=gone', '/v1/sync-runs?$top=0', `/v1/sync-runs?origin=${encodeURIComponent('a\u0000')}`, '/v1/sync-runs?cursor=zzz']) {
      const res = await call(url.includes('/plan') || url.includes('/apply') ? 'POST' : 'GET', url);
      expect([400, 404], `${url}: ${res.body.slice(0, 200)}`).toContain(res.statusCode);
    }
    expect((await call('GET', '/v1/sync-runs/not-a-uuid')).statusCode).toBe(400);
    // Nothing was created or received.
    expect((await call('GET', '/v1/sync-runs?$top=1000', undefined, 200)).json().items.length).toBe(before);
    expect(await getRun(staged.id)).toMatchObject({ status: 'receiving', received: 0 });
  }, 60_000);
});

describe('asynchronous bulk upserts: job results, tenancy, scopes and NDJSON', () => {
  async function asyncBulk(body: unknown, bearer = token): Promise<string> {
    const res = await call('POST', '/v1/users/bulk?async=true', body, 202, bearer);
    return (res.json() as { id: string }).id;
  }

  it('results page and filter by status; bad $top, cursors and statuses are a 400', async () => {
    const origin = unique('hr');
    const keys = Array.from({ length: 9 }, () => unique('r'));
    const users = keys.map((k, i) => (i % 3 === 2 ? { key: k, userName: `${k}@example.com`, groups: ['no such group'] } : person(k)));
    const jobId = await asyncBulk({ origin, users });
    const otherJob = await asyncBulk({ origin, users: [person(unique('o')), person(unique('o')), person(unique('o'))] });
    const pending = (await call('GET', `/v1/jobs/${jobId}/results?status=error`, undefined, 200)).json();
    expect(pending.items).toEqual([]);
    await runJobs();
    const errors = (await call('GET', `/v1/jobs/${jobId}/results?status=error&$top=2`, undefined, 200)).json() as { items: { index: number }[]; nextCursor: string };
    expect(errors.items.map((r) => r.index)).toEqual([2, 5]);
    // The cursor, sent with the same filter again, continues it.
    const rest = (await call('GET', `/v1/jobs/${jobId}/results?status=error&$top=2&cursor=${errors.nextCursor}`, undefined, 200)).json() as { items: { index: number }[]; nextCursor: string | null };
    expect(rest).toMatchObject({ items: [{ index: 8 }], nextCursor: null });
    const added = (await call('GET', `/v1/jobs/${jobId}/results?status=added&$top=1000`, undefined, 200)).json() as { items: { index: number; key: string; id: string }[] };
    expect(added.items.map((r) => r.index)).toEqual([0, 1, 3, 4, 6, 7]);
    expect(added.items[0]?.key).toBe(keys[0]);
    for (const query of ['$top=0', '$top=1001', 'status=nope', 'status=', 'cursor=garbage', 'cursor=', 'nope=1', `cursor=${errors.nextCursor}&status=added`, `cursor=${errors.nextCursor}&$top=3`]) {
      const res = await call('GET', `/v1/jobs/${jobId}/results?${query}`);
      expect(res.statusCode, `${query}: ${res.body.slice(0, 200)}`).toBe(400);
    }
    const otherCursor = (await call('GET', `/v1/jobs/${otherJob}/results?$top=1`, undefined, 200)).json().nextCursor as string;
    expect((await call('GET', `/v1/jobs/${jobId}/results?cursor=${otherCursor}`)).statusCode).toBe(400);
    await call('GET', '/v1/jobs/not-a-uuid/results', undefined, 400);
    await call('GET', '/v1/jobs/0190a0a0-0000-7000-8000-000000000000/results', undefined, 404);
  });

  // Was a bug (fixed): GET /v1/jobs/{id}/results filters by req.query.status, not by the status the cursor carries, so `?cursor=` alone (as the README says cursors work) drops the filter and pages every row.
  it('a results cursor alone keeps the status filter it was made with', async () => {
    const origin = unique('hr');
    const users = Array.from({ length: 9 }, (_, i) => (i % 3 === 2 ? { key: unique('e'), userName: `${unique('e')}@example.com`, groups: ['no such group'] } : person(unique('r'))));
    const jobId = await asyncBulk({ origin, users });
    await runJobs();
    const first = (await call('GET', `/v1/jobs/${jobId}/results?status=error&$top=2`, undefined, 200)).json() as { items: { index: number }[]; nextCursor: string };
    expect(first.items.map((r) => r.index)).toEqual([2, 5]);
    const rest = (await call('GET', `/v1/jobs/${jobId}/results?cursor=${first.nextCursor}`, undefined, 200)).json() as { items: { index: number; status: string }[]; nextCursor: string | null };
    expect(rest.items.map((r) => [r.index, r.status])).toEqual([[8, 'error']]);
    expect(rest.nextCursor).toBeNull();
  });

  it('a sync apply job has no results (404); another tenant\'s job is 404; scopes decide who may follow a job', async () => {
    const origin = unique('hr');
    const run = await startRun({ origin, users: [person(unique('s'))] });
    const applying = (await call('POST', `/v1/sync-runs/${run.id}/apply`, undefined, 202)).json() as Run;
    await runJobs();
    const syncJob = applying.jobId as string;
    expect((await call('GET', `/v1/jobs/${syncJob}/results`, undefined, 404)).json().code).toBe('job.not_found');
    await call('GET', `/v1/jobs/${syncJob}`, undefined, 200);

    const writer = await tokenWithScopes(t, ['users:write']);
    const reader = await tokenWithScopes(t, ['users:read']);
    const noUsers = await tokenWithScopes(t, ['directory:read']);
    const jobId = await asyncBulk({ origin, users: [person(unique('w'))] }, writer);
    await runJobs();
    for (const bearer of [writer, reader]) {
      await call('GET', `/v1/jobs/${jobId}`, undefined, 200, bearer);
      await call('GET', `/v1/jobs/${jobId}/results`, undefined, 200, bearer);
      await call('GET', `/v1/jobs/${syncJob}`, undefined, 200, bearer);
    }
    await call('GET', `/v1/jobs/${jobId}`, undefined, 403, noUsers);
    await call('GET', `/v1/jobs/${jobId}/results`, undefined, 403, noUsers);
    await call('POST', '/v1/users/bulk?async=true', { origin, users: [person(unique('r'))] }, 403, reader);

    const other = await createOtherTenant(t, unique('tenant'));
    for (const id of [jobId, syncJob]) {
      expect((await call('GET', `/v1/jobs/${id}`, undefined, 404, other)).json().code).toBe('job.not_found');
      expect((await call('GET', `/v1/jobs/${id}/results`, undefined, 404, other)).json().code).toBe('job.not_found');
    }
    // And the other way round: their job is not ours.
    const theirJob = await asyncBulk({ origin, users: [person(unique('t'))] }, other);
    await call('GET', `/v1/jobs/${theirJob}`, undefined, 404);
    await call('GET', `/v1/jobs/${theirJob}/results`, undefined, 404);
  });

  it('NDJSON: CRLF, a BOM, trailing spaces and blank lines are fine; arrays, NUL, unstorable text and huge lines are a 400 naming the line; 20,001 lines become a job', async () => {
    const origin = unique('hr');
    const nd = (payload: string | Buffer, query = `origin=${origin}`) =>
      t.request({ method: 'POST', url: `/v1/users/bulk?${query}`, token, payload, headers: { 'content-type': 'application/x-ndjson' } });
    const [a, b, c] = [unique('a'), unique('b'), unique('c')];
    const ok = await nd(`\uFEFF${JSON.stringify(person(a))}  \r\n   \r\n${JSON.stringify(person(b))}\t\r\n${JSON.stringify(person(c))}`);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ added: 3, errors: 0 });
    expect(ok.json().users.map((u: { key: string }) => u.key)).toEqual([a, b, c]);

    const bad: [string, string | Buffer, RegExp | null][] = [
      ['an array line', `${JSON.stringify(person(unique('x')))}\n[${JSON.stringify(person(unique('y')))}]\n`, /Line 2/],
      ['a number line', `${JSON.stringify(person(unique('x')))}\n\n42\n`, /Line 3/],
      ['two objects on a line', `${JSON.stringify(person(unique('x')))} ${JSON.stringify(person(unique('y')))}\n`, /Line 1/],
      ['a raw NUL in a line', `{"key": "x\u0000y", "userName": "n@example.com"}\n`, /Line 1/],
      ['an escaped NUL', `{"key": "x\\u0000y", "userName": "n@example.com"}\n`, null],
      ['a lone surrogate', `{"key": "x\\udc00", "userName": "n@example.com"}\n`, null],
      ['a BOM on the second line', `${JSON.stringify(person(unique('x')))}\n\uFEFF${JSON.stringify(person(unique('y')))}\n`, null],
      ['a 1 MB line', `${JSON.stringify({ key: unique('big'), userName: 'big@example.com', title: 'x'.repeat(1024 * 1024) })}\n`, null],
      ['a 1 MB attributes line', `${JSON.stringify({ key: unique('big'), userName: 'big2@example.com', attributes: { blob: 'x'.repeat(1024 * 1024) } })}\n`, null],
      ['a repeated key', '{"key": "r", "key": "s"}\n', null],
    ];
    for (const [name, payload, detail] of bad) {
      const res = await nd(payload);
      expect(res.statusCode, `${name}: ${res.body.slice(0, 300)}`).toBe(400);
      if (detail) expect(res.json().detail, name).toMatch(detail);
    }
    const invalidUtf8 = await nd(Buffer.concat([Buffer.from('{"key": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
    expect(invalidUtf8.statusCode).toBe(400);
    for (const query of [`origin=${origin}&dryRun=yes`, `origin=${origin}&mode=merge`, '', `origin=${origin}&origin=${origin}`, `origin=${origin}&async=maybe`]) {
      const res = await nd(`${JSON.stringify(person(unique('q')))}\n`, query);
      expect(res.statusCode, `${query}: ${res.body.slice(0, 200)}`).toBe(400);
    }
    // Nothing of the refused bodies was written.
    expect((await call('GET', `/v1/users/by-external-id/${origin}/r`)).statusCode).toBe(404);
    const users = (await call('GET', `/v1/users?$filter=${encodeURIComponent("userName eq 'big@example.com'")}`, undefined, 200)).json().items as unknown[];
    expect(users).toEqual([]);

    const lines = Array.from({ length: 20_001 }, (_, i) => JSON.stringify({ key: `n${i}`, userName: `${origin}-${i}@example.com` })).join('\n');
    const big = await nd(lines, `origin=${origin}&dryRun=true`);
    expect(big.statusCode, big.body.slice(0, 300)).toBe(202);
    expect(big.json()).toMatchObject({ type: 'users.bulk-upsert', status: 'queued' });
  }, 60_000);
});
