import { describe, expect, it } from 'vitest';
import { useApiSuite } from '../helpers/test-app.js';

/** Requests that fail before routing, and identifiers as clients write them. */
const s = useApiSuite();

const PROBLEM_KEYS = ['code', 'detail', 'errors', 'requestId', 'status', 'title', 'type'];

describe('paths that are not percent-encoded UTF-8', () => {
  it.each(['%FF', 'a%FF', '%ED%A0%80', '%C0%80', '%C0%AF', '%E0%80%80'])('GET /v1/users/by-username/%s is our 400 problem naming the path', async (segment) => {
    const res = await s.request({ method: 'GET', url: `/v1/users/by-username/${segment}?x=1` });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const problem = res.json() as Record<string, unknown> & { errors: { field: string; message: string }[] };
    expect(Object.keys(problem).sort()).toEqual(PROBLEM_KEYS);
    expect(problem).toMatchObject({ status: 400, code: 'request.validation_failed', type: 'https://roster.dev/errors/request.validation_failed' });
    expect(problem.requestId).toBe(res.headers['x-request-id']);
    expect(problem.errors).toEqual([{ field: '/params', message: `"/v1/users/by-username/${segment}" is not percent-encoded UTF-8` }]);
    expect(problem.detail).toContain(`/v1/users/by-username/${segment}`);
    expect(res.body).not.toContain('FST_ERR');
  });

  it('keeps the caller request id and answers the same without a token', async () => {
    const res = await s.t.request({ method: 'GET', url: '/v1/users/%FF', headers: { 'x-request-id': 'trace-123' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request.validation_failed', requestId: 'trace-123' });
    expect(res.headers['x-request-id']).toBe('trace-123');
  });

  it('answers an overlong path parameter with a 414 problem', async () => {
    const res = await s.request({ method: 'GET', url: `/v1/users/by-username/${'x'.repeat(600)}` });
    expect(res.statusCode, res.body).toBe(414);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(Object.keys(res.json()).sort()).toEqual(PROBLEM_KEYS);
    expect(res.json()).toMatchObject({ status: 414, code: 'request.validation_failed', errors: [{ field: '/params' }] });
  });
});
