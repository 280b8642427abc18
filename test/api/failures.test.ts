import { describe, expect, it } from 'vitest';
import { useTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let token: string;
useTestApp((app, adminToken) => {
  t = app;
  token = adminToken;
});

describe('server failures', () => {
  it('answer 500/503 with a request id and no internals once the database is gone', async () => {
    await t.request({ method: 'GET', url: '/v1/users', token });
    await t.runtime.close();
    const res = await t.request({ method: 'GET', url: '/v1/users?$filter=department eq \'x\'', token, headers: { 'x-request-id': 'trace-500' } });
    expect(res.statusCode).toBe(500);
    expect(res.headers['x-request-id']).toBe('trace-500');
    const body = res.json();
    expect(body).toMatchObject({ code: 'internal.error', status: 500, requestId: 'trace-500' });
    expect(res.body).not.toMatch(/at .*\.(js|ts):\d+|driver|sqlite|kysely|postgres/i);
    const ready = await t.request({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().code).toBe('internal.unavailable');
  });
});
