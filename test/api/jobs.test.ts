import { beforeAll, describe, expect, it } from 'vitest';
import type { Job, NewJob } from '../../src/domain/job.js';
import { createOtherTenant, tokenWithScopes } from '../helpers/directory-fixtures.js';
import { useTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let admin: string;
useTestApp((app, token) => {
  t = app;
  admin = token;
});

const enqueue = (job: NewJob): Promise<Job> => t.runtime.services.store.transaction((repos) => t.runtime.services.queue.enqueue(repos, job));
const get = (url: string, token = admin) => t.request({ method: 'GET', url, token });

let mine: Job[];
let theirs: Job;
let system: Job;
let otherAdmin: string;
beforeAll(async () => {
  mine = [];
  for (let n = 0; n < 5; n++) mine.push(await enqueue({ type: n % 2 === 0 ? 'api.even' : 'api.odd', tenantId: 'default', payload: { secret: `s3cr3t-${n}` } }));
  otherAdmin = await createOtherTenant(t, 'jobs-other');
  theirs = await enqueue({ type: 'api.even', tenantId: 'jobs-other', payload: {} });
  system = await enqueue({ type: 'api.system', payload: {} });
});

describe('GET /v1/jobs/{id}', () => {
  it('shows type, status, attempts, timings, last error, progress and result, never the payload', async () => {
    const failing = await enqueue({ type: 'api.failing', tenantId: 'default', payload: { password: 'hunter2' }, maxAttempts: 1 });
    const runner = t.runtime.jobRunner({
      handlers: new Map([['api.failing', async () => Promise.reject(new Error('the directory said no'))]]),
      types: ['api.failing'],
    });
    await runner.runDue();
    const res = await get(`/v1/jobs/${failing.id}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ id: failing.id, type: 'api.failing', status: 'dead', attempts: 1, maxAttempts: 1, progress: null, result: null });
    expect(body.lastError).toBe('Error: the directory said no');
    for (const field of ['runAt', 'createdAt', 'startedAt', 'finishedAt', 'updatedAt']) expect(Date.parse(body[field])).not.toBeNaN();
    expect(Object.keys(body).sort()).toEqual(
      ['attempts', 'createdAt', 'finishedAt', 'id', 'lastError', 'maxAttempts', 'progress', 'result', 'runAt', 'startedAt', 'status', 'type', 'updatedAt'],
    );
    expect(res.body).not.toContain('hunter2');
  });

  it("is a 404 for another tenant's job and for an unknown id, a 400 for an id that is not a UUID", async () => {
    expect((await get(`/v1/jobs/${theirs.id}`)).json()).toMatchObject({ status: 404, code: 'job.not_found' });
    expect((await get(`/v1/jobs/${mine[0]?.id}`, otherAdmin)).json()).toMatchObject({ status: 404, code: 'job.not_found' });
    expect((await get('/v1/jobs/01930000-0000-7000-8000-000000000000')).statusCode).toBe(404);
    expect((await get('/v1/jobs/not-a-uuid')).statusCode).toBe(400);
    expect((await get(`/v1/jobs/${theirs.id}`, otherAdmin)).statusCode).toBe(200);
  });

  it('shows system jobs (no tenant) to installation admins only', async () => {
    expect((await get(`/v1/jobs/${system.id}`)).statusCode).toBe(200);
    expect((await get(`/v1/jobs/${system.id}`, otherAdmin)).statusCode).toBe(404);
  });
});

describe('GET /v1/jobs', () => {
  it('pages newest first with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/jobs?type=api.even&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const page = res.json() as { items: { id: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([mine[4]?.id, mine[2]?.id, mine[0]?.id]);
  });

  it("filters by status and type, and lists only the caller's tenant", async () => {
    const odd = (await get('/v1/jobs?type=api.odd&status=queued')).json() as { items: { id: string; status: string }[] };
    expect(odd.items.map((j) => j.id)).toEqual([mine[3]?.id, mine[1]?.id]);
    expect((await get('/v1/jobs?type=api.odd&status=succeeded')).json()).toEqual({ items: [], nextCursor: null });
    const other = (await get('/v1/jobs', otherAdmin)).json() as { items: { id: string }[] };
    expect(other.items.map((j) => j.id)).toEqual([theirs.id]);
    const all = (await get('/v1/jobs?limit=1000')).json() as { items: { id: string }[] };
    expect(all.items.map((j) => j.id)).toContain(system.id);
    expect(all.items.map((j) => j.id)).not.toContain(theirs.id);
  });

  it('refuses a bad query with a 400 problem', async () => {
    for (const query of ['status=lost', 'limit=0', 'limit=abc', 'cursor=nonsense', 'colour=blue']) {
      const res = await get(`/v1/jobs?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect((await get('/v1/jobs?cursor=nonsense')).json().code).toBe('request.invalid_cursor');
  });

  it('needs the admin scope', async () => {
    const reader = await tokenWithScopes(t, ['users:read', 'directory:write']);
    expect((await get('/v1/jobs', reader)).json()).toMatchObject({ status: 403, code: 'auth.insufficient_scope' });
    expect((await get(`/v1/jobs/${mine[0]?.id}`, reader)).statusCode).toBe(403);
    expect((await t.request({ method: 'GET', url: '/v1/jobs' })).statusCode).toBe(401);
  });
});

describe('a deleted tenant', () => {
  it('takes its jobs with it', async () => {
    const res = await t.request({ method: 'DELETE', url: '/v1/tenants/jobs-other', token: admin });
    expect(res.statusCode).toBe(204);
    expect(await t.runtime.services.store.repos.jobs.findById({ tenantId: 'jobs-other', includeSystem: false }, theirs.id)).toBeUndefined();
  });
});
