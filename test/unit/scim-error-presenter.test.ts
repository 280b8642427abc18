import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { errorCatalogue, scimTypeOf, type ErrorCode } from '../../src/errors/error-codes.js';
import { QueryError } from '../../src/errors/query-error.js';
import { ScimFilterError } from '../../src/filter/scim-filter-errors.js';
import { registerErrorHandling } from '../../src/http/error-handler.js';
import { registerInputGuard } from '../../src/http/input-guard.js';
import { presentScimError } from '../../src/http/scim/scim-error-presenter.js';
import { registerScim, type ScimDeps } from '../../src/http/scim/scim-plugin.js';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const RFC_SCIM_TYPES = ['invalidFilter', 'tooMany', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'invalidVers', 'sensitive', 'invalidCursor', 'expiredCursor', 'invalidCount'];

describe('presentScimError', () => {
  it('renders the RFC 7644 §3.12 body with the status as a string and the scimType of the code', () => {
    expect(presentScimError({ code: 'user.username_taken', status: 409, detail: 'taken' })).toEqual({ schemas: [ERROR], status: '409', scimType: 'uniqueness', detail: 'taken' });
    expect(presentScimError({ code: 'auth.insufficient_scope', status: 403, detail: 'needs users:write' })).toEqual({ schemas: [ERROR], status: '403', detail: 'needs users:write' });
  });

  it('takes the scimType of filter and path syntax errors from their SCIM codes', () => {
    const filter = new ScimFilterError('invalidFilter', 'bad filter', 3);
    const path = new ScimFilterError('invalidPath', 'bad path', 1);
    expect([filter.code, filter.status, filter.scimType]).toEqual(['scim.invalid_filter', 400, 'invalidFilter']);
    expect([path.code, path.status, path.scimType]).toEqual(['scim.invalid_path', 400, 'invalidPath']);
    expect(presentScimError({ code: path.code, status: path.status, detail: path.message }).scimType).toBe('invalidPath');
  });

  it('maps the catalogue onto RFC keywords: every *_taken is uniqueness, 400s only use 400 keywords', () => {
    for (const code of Object.keys(errorCatalogue) as ErrorCode[]) {
      const type = scimTypeOf(code);
      if (code.endsWith('_taken')) expect(type, code).toBe('uniqueness');
      if (type === undefined) continue;
      expect(RFC_SCIM_TYPES, code).toContain(type);
      expect(errorCatalogue[code].status, code).toBe(type === 'uniqueness' ? 409 : 400);
    }
    const expected: Partial<Record<ErrorCode, string>> = {
      'request.invalid_filter': 'invalidFilter', 'request.malformed_json': 'invalidSyntax', 'request.validation_failed': 'invalidValue',
      'request.invalid_cursor': 'invalidCursor', 'scim.invalid_filter': 'invalidFilter', 'scim.invalid_path': 'invalidPath',
      'scim.no_target': 'noTarget', 'scim.mutability': 'mutability', 'scim.invalid_value': 'invalidValue', 'scim.invalid_syntax': 'invalidSyntax',
      'scim.too_many': 'tooMany', 'scim.invalid_version': 'invalidVers', 'scim.invalid_cursor': 'invalidCursor',
    };
    for (const [code, type] of Object.entries(expected)) expect(scimTypeOf(code as ErrorCode), code).toBe(type);
    expect(errorCatalogue['scim.not_implemented'].status).toBe(501);
  });

  it('answers a 422 of the native API as the 400 invalidValue SCIM defines (RFC 7644 §3.12 has no 422)', () => {
    expect(presentScimError({ code: 'group.member_not_found', status: 422, detail: 'No user with id x.' })).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidValue', detail: 'No user with id x.',
    });
  });
});

describe('the error handler under /scim/v2', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify({ logger: false, bodyLimit: 64 });
    app.removeContentTypeParser('text/plain');
    registerInputGuard(app);
    registerErrorHandling(app);
    registerScim(app, {} as ScimDeps);
    const fail = (error: () => Error) => async () => {
      throw error();
    };
    app.get('/scim/v2/test/forbidden', fail(() => new AppError('auth.insufficient_scope', 'This operation needs the users:write scope.')));
    app.get('/scim/v2/test/crash', fail(() => new Error('secret internals')));
    app.get('/scim/v2/test/query', { config: { queryParameters: { filter: 'filter', sort: 'sortBy', select: 'attributes', expand: 'expand', cursor: 'cursor', size: 'count', offset: 'startIndex' } } }, fail(() => new QueryError('sort', 'cannot sort by password')));
    app.post('/scim/v2/test/echo', async (request) => request.body);
    app.get('/v1/test/crash', fail(() => new Error('secret internals')));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it('403 from a scope check is a SCIM error without scimType', async () => {
    const res = await app.inject({ method: 'GET', url: '/scim/v2/test/forbidden' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toBe('application/scim+json; charset=utf-8');
    expect(res.json()).toEqual({ schemas: [ERROR], status: '403', detail: 'This operation needs the users:write scope.' });
  });

  it('an unexpected error is a SCIM 500 that names the request id and nothing internal', async () => {
    const res = await app.inject({ method: 'GET', url: '/scim/v2/test/crash' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ schemas: [ERROR], status: '500', detail: expect.stringContaining('request id') });
    expect(res.body).not.toContain('secret internals');
    const native = await app.inject({ method: 'GET', url: '/v1/test/crash' });
    expect(native.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(native.json()).toMatchObject({ code: 'internal.error', status: 500 });
  });

  it('a query error names the SCIM parameter', async () => {
    const res = await app.inject({ method: 'GET', url: '/scim/v2/test/query' });
    expect(res.json()).toEqual({ schemas: [ERROR], status: '400', scimType: 'invalidValue', detail: 'sortBy: cannot sort by password' });
  });

  it('413 for a body over the limit, 415 for text/plain; scim+json bodies are parsed as JSON', async () => {
    const big = await app.inject({ method: 'POST', url: '/scim/v2/test/echo', headers: { 'content-type': 'application/scim+json' }, payload: JSON.stringify({ x: 'y'.repeat(100) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ schemas: [ERROR], status: '413' });
    const plain = await app.inject({ method: 'POST', url: '/scim/v2/test/echo', headers: { 'content-type': 'text/plain' }, payload: 'x' });
    expect(plain.json()).toMatchObject({ schemas: [ERROR], status: '415' });
    const ok = await app.inject({ method: 'POST', url: '/scim/v2/test/echo', headers: { 'content-type': 'application/scim+json' }, payload: '{"a":[1,2]}' });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toBe('application/scim+json; charset=utf-8');
    expect(ok.json()).toEqual({ a: [1, 2] });
    const deep = await app.inject({ method: 'POST', url: '/scim/v2/test/echo', headers: { 'content-type': 'application/scim+json' }, payload: '{"__proto__":{}}' });
    expect(deep.json()).toMatchObject({ status: '400', scimType: 'invalidValue' });
  });
});
